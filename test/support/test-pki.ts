import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PKI made at test time with the openssl CLI (EC keys, so it takes milliseconds): a root CA, an
 * intermediate CA signed by it, and a server certificate signed by the intermediate for 127.0.0.1, localhost
 * and kube.example.test (a name that only a proxy can resolve). Nothing is checked in.
 */
export interface TestPki {
  dir: string;
  rootCert: string;
  intermediateCert: string;
  serverCert: string;
  serverKey: string;
  /** The server certificate followed by the intermediate: what a server normally presents. */
  serverChain: string;
  /** A server certificate signed by the same intermediate but for another name only. */
  otherNameCert: string;
  otherNameKey: string;
  /** A server certificate (and chain) for the same names, from the intermediate, that expired in 2020. */
  expiredChain: string;
  expiredKey: string;
  /** A client certificate (from the root) and a key that does not belong to it. */
  clientCert: string;
  clientKey: string;
  strayKey: string;
}

export const openssl = ['/usr/bin/openssl', '/usr/local/bin/openssl'].find((path) => existsSync(path));

export function makeTestPki(): TestPki {
  if (!openssl) throw new Error('openssl is needed to make the test certificates');
  const dir = mkdtempSync(join(tmpdir(), 'sympozium-pki-'));
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const key = (name: string) => run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
  const ext = (name: string, text: string) => writeFileSync(join(dir, `${name}.ext`), text);
  const sign = (name: string, subject: string, issuer: string | undefined, extensions: string) => {
    key(name);
    ext(name, extensions);
    run('req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`);
    const signer = issuer ? ['-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial'] : ['-signkey', `${name}.key`];
    run('x509', '-req', '-in', `${name}.csr`, ...signer, '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  };
  const ca = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n';
  sign('root', '/CN=sympozium test root', undefined, ca);
  sign('intermediate', '/CN=sympozium test intermediate', 'root', ca);
  const serverExt = (names: string) => `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${names}\n`;
  sign('server', '/CN=kube-apiserver', 'intermediate', serverExt('IP:127.0.0.1,DNS:localhost,DNS:kube.example.test'));
  sign('other', '/CN=elsewhere', 'intermediate', serverExt('DNS:elsewhere.example.test'));
  sign('client', '/CN=alice/O=devs', 'root', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  // Dates in the past need `openssl ca` (OpenSSL 3.0's x509 has no -not_before), with a minimal CA database.
  key('expired');
  run('req', '-new', '-key', 'expired.key', '-subj', '/CN=kube-apiserver', '-out', 'expired.csr');
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '01\n');
  writeFileSync(join(dir, 'ca.cnf'), '[ca]\ndefault_ca=test\n[test]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=any\n[any]\ncommonName=supplied\n');
  ext('expired', serverExt('IP:127.0.0.1,DNS:localhost,DNS:kube.example.test'));
  run('ca', '-batch', '-notext', '-config', 'ca.cnf', '-cert', 'intermediate.crt', '-keyfile', 'intermediate.key', '-in', 'expired.csr', '-out', 'expired.crt', '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-extfile', 'expired.ext');
  key('stray');
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return {
    dir,
    rootCert: read('root.crt'),
    intermediateCert: read('intermediate.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    serverChain: read('server.crt') + read('intermediate.crt'),
    otherNameCert: read('other.crt') + read('intermediate.crt'),
    otherNameKey: read('other.key'),
    expiredChain: read('expired.crt') + read('intermediate.crt'),
    expiredKey: read('expired.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    strayKey: read('stray.key'),
  };
}
