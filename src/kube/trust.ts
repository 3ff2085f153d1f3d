import { existsSync, readFileSync } from 'node:fs';
import tls from 'node:tls';

/**
 * The CAs to trust when the kubeconfig names none. kubectl (Go) uses the OS trust store; Node's default is its
 * bundled Mozilla list only, so a cluster signed by a company CA installed in the OS fails with us and works with
 * kubectl. Node >= 22.15/23.8 can read the system store itself; before that, read the file Go reads on Linux.
 */
const systemBundles = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Alpine
  '/etc/pki/tls/certs/ca-bundle.crt', // Fedora, RHEL
  '/etc/ssl/ca-bundle.pem', // openSUSE
  '/etc/pki/tls/cacert.pem', // OpenELEC
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', // CentOS, RHEL 7
  '/etc/ssl/cert.pem', // Alpine, macOS
];

type GetCACertificates = (type: 'default' | 'system' | 'bundled' | 'extra') => string[];

export function defaultTrustedCAs(env: NodeJS.ProcessEnv): (string | Buffer)[] | undefined {
  const getCACertificates = (tls as unknown as { getCACertificates?: GetCACertificates }).getCACertificates;
  // 'default' already holds the bundled list plus NODE_EXTRA_CA_CERTS, as Node would use without `ca`.
  if (getCACertificates) return [...getCACertificates('default'), ...getCACertificates('system')];
  // Go honours SSL_CERT_FILE before the distribution's bundle.
  const file = env.SSL_CERT_FILE && existsSync(env.SSL_CERT_FILE) ? env.SSL_CERT_FILE : systemBundles.find((path) => existsSync(path));
  if (!file) return undefined;
  try {
    const extra = env.NODE_EXTRA_CA_CERTS && existsSync(env.NODE_EXTRA_CA_CERTS) ? [readFileSync(env.NODE_EXTRA_CA_CERTS)] : [];
    return [...tls.rootCertificates, readFileSync(file), ...extra];
  } catch {
    // An unreadable bundle leaves Node's own defaults, which is what we had before.
    return undefined;
  }
}
