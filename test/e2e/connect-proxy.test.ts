import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot, runBin } from '../support/bin.js';
import { startParityServer, type ParityServer } from '../support/parity-server.js';
import { startHttpProxy, startSocksProxy, type TestProxy } from '../support/proxy-servers.js';
import { makeTestPki, openssl, type TestPki } from '../support/test-pki.js';
import { writeKubeconfig } from '../support/kubeconfig.js';

/**
 * Proxies and TLS trust side by side with kubectl: our own TLS API server (a certificate from an intermediate
 * CA, made at test time), an http CONNECT proxy and a SOCKS5 proxy that record what went through them. Each
 * case asserts the same outcome for kubectl and the built CLI, and the same path (direct, or which proxy).
 */
const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((path) => existsSync(path));
const skip = !kubectl || !openssl;
if (skip) console.log(`connect-proxy: ${!kubectl ? 'kubectl' : 'openssl'} not found, skipping the side-by-side proxy and TLS tests`);

let pki: TestPki;
let server: ParityServer;
let leafOnly: ParityServer;
let wrongName: ParityServer;
let expired: ParityServer;
let proxy: TestProxy;
let authProxy: TestProxy;
let socks: TestProxy;
let tlsProxy: TestProxy;
let dir: string;

/** The environment both clients run with: none of this machine's proxy variables, plus the case's. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']) delete env[name];
  return { ...env, HOME: dir, ...extra };
}

function runKubectl(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectl!, args, { encoding: 'utf8', timeout: 15_000, env }, (error, _stdout, stderr) =>
      resolve({ status: error ? Number((error as { code?: number }).code ?? 1) || 1 : 0, stderr }),
    );
  });
}

let counter = 0;
function kubeconfig(options: { server: string; cluster?: string; ca?: string; user?: string }): string {
  // `cluster` and `user` are written indented for their place; the helper indents them itself.
  const unindent = (text: string) => text.split('\n').map((line) => line.replace(/^ {4}/, '')).join('\n');
  return writeKubeconfig(join(dir, `kubeconfig-${(counter += 1)}`), {
    server: options.server,
    ca: options.ca ?? pki.intermediateCert,
    cluster: options.cluster === undefined ? undefined : unindent(options.cluster),
    user: unindent(options.user ?? '    token: sekret-token'),
  });
}

const allProxies = () => [proxy, authProxy, socks, tlsProxy];
const drain = () => allProxies().map((p) => p.records.splice(0));

/** Runs kubectl, then the CLI, on the same kubeconfig and environment; returns each one's outcome and path. */
async function sideBySide(path: string, env: NodeJS.ProcessEnv = {}, target = server) {
  drain();
  target.requests.length = 0;
  const theirs = await runKubectl(['--kubeconfig', path, 'get', 'pods', '-o', 'name', '--request-timeout', '5s'], cleanEnv(env));
  const theirPath = drain().map((records) => records.map((record) => record.method));
  const theirRequests = target.requests.splice(0).length;
  const ours = await runBin(['--kubeconfig', path, 'key', 'show', 'demo', '--reveal', '--request-timeout', '5s'], { env: cleanEnv(env) });
  const ourRecords = drain();
  const ourPath = ourRecords.map((records) => records.map((record) => record.method));
  const ourRequests = target.requests.splice(0).length;
  return {
    kubectl: { ok: theirs.status === 0, stderr: theirs.stderr, reachedServer: theirRequests > 0, path: theirPath.map((methods) => methods.length > 0) },
    // `key show demo` asks for an instance our server does not have: the server's answer (no such namespace or
    // instance) is a success at connecting, which is what these cases are about.
    cli: { ok: ourRequests > 0 && !/TLS:|proxy|cannot reach/.test(ours.stderr), stderr: ours.stderr, reachedServer: ourRequests > 0, path: ourPath.map((methods) => methods.length > 0) },
    ourRecords,
  };
}

beforeAll(async () => {
  if (skip) return;
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sympozium-connect-proxy-'));
  pki = makeTestPki();
  [server, leafOnly, wrongName, expired, proxy, authProxy, socks, tlsProxy] = await Promise.all([
    startParityServer({ tls: { cert: pki.serverChain, key: pki.serverKey } }),
    startParityServer({ tls: { cert: pki.serverCert, key: pki.serverKey } }),
    startParityServer({ tls: { cert: pki.otherNameCert, key: pki.otherNameKey } }),
    startParityServer({ tls: { cert: pki.expiredChain, key: pki.expiredKey } }),
    startHttpProxy(),
    startHttpProxy({ credentials: 'bob:pa ss' }),
    startSocksProxy(),
    startHttpProxy({ tls: { cert: pki.serverChain, key: pki.serverKey } }),
  ]);
});

afterAll(async () => {
  await Promise.all([server, leafOnly, wrongName, expired, proxy, authProxy, socks, tlsProxy].map((s) => s?.close()));
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

const port = (url: string) => new URL(url).port;
/** Which proxy each client went through: [http, http with auth, socks, https]. */
const via = {
  direct: [false, false, false, false],
  http: [true, false, false, false],
  auth: [false, true, false, false],
  socks: [false, false, true, false],
  https: [false, false, false, true],
};

describe.skipIf(skip)('proxy-url in the kubeconfig', () => {
  it('http://: both go through the proxy, to the same server', async () => {
    const result = await sideBySide(kubeconfig({ server: server.url, cluster: `    proxy-url: ${proxy.url}` }));
    expect(result.kubectl.ok, result.kubectl.stderr).toBe(true);
    expect(result.cli.ok, result.cli.stderr).toBe(true);
    expect(result.kubectl.path).toEqual(via.http);
    expect(result.cli.path).toEqual(via.http);
    expect(result.ourRecords[0]![0]).toMatchObject({ method: 'CONNECT', target: `127.0.0.1:${port(server.url)}` });
    // Keep-alive through the tunnel: one CONNECT per connection the CLI would have opened directly.
    const before = server.connections();
    await runBin(['--kubeconfig', kubeconfig({ server: server.url }), 'key', 'show', 'demo', '--reveal'], { env: cleanEnv() });
    expect(result.ourRecords[0]!.length).toBe(server.connections() - before);
  });

  it('http://user:password@: both send the proxy credentials; the CLI never prints the password', async () => {
    const result = await sideBySide(kubeconfig({ server: server.url, cluster: `    proxy-url: http://bob:pa%20ss@127.0.0.1:${authProxy.port}` }));
    expect(result.kubectl.ok, result.kubectl.stderr).toBe(true);
    expect(result.cli.ok, result.cli.stderr).toBe(true);
    expect(result.kubectl.path).toEqual(via.auth);
    expect(result.cli.path).toEqual(via.auth);
    expect(result.ourRecords[1]![0]!.credentials).toBe('bob:pa ss');
  });

  it('socks5://: both go through the SOCKS proxy', async () => {
    const result = await sideBySide(kubeconfig({ server: server.url, cluster: `    proxy-url: ${socks.url}` }));
    expect(result.kubectl.ok, result.kubectl.stderr).toBe(true);
    expect(result.cli.ok, result.cli.stderr).toBe(true);
    expect(result.kubectl.path).toEqual(via.socks);
    expect(result.cli.path).toEqual(via.socks);
  });

  it('https://: TLS to the proxy with the cluster\'s TLS settings (Go\'s transport reuses them), then CONNECT inside', async () => {
    const result = await sideBySide(kubeconfig({ server: server.url, ca: pki.rootCert, cluster: `    proxy-url: ${tlsProxy.url}` }));
    expect(result.kubectl.ok, result.kubectl.stderr).toBe(true);
    expect(result.cli.ok, result.cli.stderr).toBe(true);
    expect(result.kubectl.path).toEqual(via.https);
    expect(result.cli.path).toEqual(via.https);
    // A proxy whose certificate the kubeconfig's CA does not cover: both refuse it; the CLI names the proxy.
    const untrusted = await sideBySide(kubeconfig({ server: server.url, ca: pki.clientCert, cluster: `    proxy-url: ${tlsProxy.url}` }));
    expect(untrusted.kubectl.ok).toBe(false);
    expect(untrusted.kubectl.stderr).toMatch(/proxyconnect tcp: tls: failed to verify certificate/);
    expect(untrusted.cli.ok).toBe(false);
    expect(untrusted.cli.stderr).toContain(`cannot connect to the proxy ${tlsProxy.url} (proxy-url of cluster "c"): TLS: `);
    expect(untrusted.cli.reachedServer).toBe(false);
  });

  it('an http:// server: both send the request to the proxy in absolute form (GET http://…), not CONNECT', async () => {
    const plain = await startParityServer();
    try {
      const path = join(dir, `kubeconfig-${(counter += 1)}`);
      writeFileSync(path, readFileSync(kubeconfig({ server: plain.url, cluster: `    proxy-url: ${proxy.url}` }), 'utf8').replace(/\n\s+certificate-authority-data: .*/, ''));
      const result = await sideBySide(path, {}, plain);
      expect(result.kubectl.ok, result.kubectl.stderr).toBe(true);
      expect(result.cli.ok, result.cli.stderr).toBe(true);
      expect(result.kubectl.path).toEqual(via.http);
      expect(result.cli.path).toEqual(via.http);
      expect(new Set(result.ourRecords[0]!.map((record) => record.method))).toEqual(new Set(['GET']));
      // A proxy that wants credentials answers 407 itself: a proxy failure, not the cluster's.
      const authPath = join(dir, `kubeconfig-${(counter += 1)}`);
      writeFileSync(authPath, readFileSync(path, 'utf8').replace(proxy.url, authProxy.url));
      const refused = await sideBySide(authPath, {}, plain);
      expect(refused.kubectl.ok).toBe(false);
      expect(refused.cli.stderr).toContain(`the proxy ${authProxy.url} (proxy-url of cluster "c") refused to connect to the cluster: it asks for credentials (407 Proxy Authentication Required)`);
    } finally {
      await plain.close();
    }
  });

  it('proxy-url wins over HTTPS_PROXY and applies to a loopback server', async () => {
    const result = await sideBySide(kubeconfig({ server: server.url, cluster: `    proxy-url: ${socks.url}` }), { HTTPS_PROXY: proxy.url });
    expect(result.kubectl.path).toEqual(via.socks);
    expect(result.cli.path).toEqual(via.socks);
  });

  it('socks5h:// is refused as kubectl refuses it', async () => {
    const result = await sideBySide(kubeconfig({ server: server.url, cluster: `    proxy-url: socks5h://127.0.0.1:${socks.port}` }));
    expect(result.kubectl.ok).toBe(false);
    expect(result.cli.ok).toBe(false);
    expect(result.kubectl.stderr).toContain(`unsupported scheme "socks5h", must be http, https, or socks5`);
    expect(result.cli.stderr).toContain(`unsupported scheme "socks5h", must be http, https, or socks5`);
    expect(result.cli.reachedServer || result.kubectl.reachedServer).toBe(false);
  });

  it('a proxy that refuses connections: both fail, and the CLI names the proxy (masked), not the cluster', async () => {
    const closed = await startHttpProxy();
    await closed.close();
    const result = await sideBySide(kubeconfig({ server: server.url, cluster: `    proxy-url: http://bob:hunter2@127.0.0.1:${closed.port}` }));
    expect(result.kubectl.ok).toBe(false);
    expect(result.kubectl.stderr).toMatch(/refused/);
    expect(result.cli.ok).toBe(false);
    expect(result.cli.stderr).toContain(`cannot connect to the proxy http://bob:***@127.0.0.1:${closed.port} (proxy-url of cluster "c"): connection refused`);
    expect(result.cli.stderr).toMatch(/\nCheck that the proxy is running/);
    expect(result.cli.stderr).not.toContain('hunter2');
    expect(result.cli.stderr).not.toMatch(/cannot reach the cluster|sympozium dev up/);
  });

  it('a proxy whose host does not resolve: both fail, the CLI says the proxy\'s host was not found', async () => {
    const result = await sideBySide(kubeconfig({ server: server.url, cluster: '    proxy-url: http://no-such-proxy.invalid:3128' }));
    expect(result.kubectl.ok).toBe(false);
    expect(result.kubectl.stderr).toMatch(/proxyconnect tcp: dial tcp: lookup no-such-proxy\.invalid/);
    expect(result.cli.ok).toBe(false);
    expect(result.cli.stderr).toContain('cannot connect to the proxy http://no-such-proxy.invalid:3128 (proxy-url of cluster "c"): host not found');
    expect(result.cli.stderr).not.toMatch(/cannot reach the cluster/);
  });

  it('a proxy that wants credentials (407): the CLI says so and names the proxy', async () => {
    const result = await sideBySide(kubeconfig({ server: server.url, cluster: `    proxy-url: ${authProxy.url}` }));
    expect(result.kubectl.ok).toBe(false);
    expect(result.cli.ok).toBe(false);
    expect(result.cli.stderr).toContain(`the proxy ${authProxy.url} (proxy-url of cluster "c") refused to connect to the cluster: it asks for credentials (407 Proxy Authentication Required)`);
    expect(result.cli.reachedServer).toBe(false);
  });
});

describe.skipIf(skip)('HTTPS_PROXY and NO_PROXY', () => {
  // kube.example.test resolves nowhere but inside the test proxies, so only a proxied client reaches it.
  const proxiedName = () => `https://kube.example.test:${port(server.url)}`;

  it('HTTPS_PROXY: a server by name goes through the proxy', async () => {
    const result = await sideBySide(kubeconfig({ server: proxiedName() }), { HTTPS_PROXY: proxy.url });
    expect(result.kubectl.ok, result.kubectl.stderr).toBe(true);
    expect(result.cli.ok, result.cli.stderr).toBe(true);
    expect(result.kubectl.path).toEqual(via.http);
    expect(result.cli.path).toEqual(via.http);
    expect(result.ourRecords[0]![0]!.target).toBe(`kube.example.test:${port(server.url)}`);
  });

  it('https_proxy (lower case) works, and HTTPS_PROXY wins over it', async () => {
    const lower = await sideBySide(kubeconfig({ server: proxiedName() }), { https_proxy: socks.url });
    expect(lower.kubectl.path).toEqual(via.socks);
    expect(lower.cli.path).toEqual(via.socks);
    const both = await sideBySide(kubeconfig({ server: proxiedName() }), { HTTPS_PROXY: proxy.url, https_proxy: socks.url });
    expect(both.kubectl.path).toEqual(via.http);
    expect(both.cli.path).toEqual(via.http);
  });

  it('NO_PROXY that matches (domain suffix): both connect directly (and so cannot resolve the name)', async () => {
    // One entry per kind here; every kind of entry is checked against Go's own cases in kube-proxy-env.test.ts.
    for (const noProxy of ['.example.test', `kube.example.test:${port(server.url)}`, 'other.test,*']) {
      const result = await sideBySide(kubeconfig({ server: proxiedName() }), { HTTPS_PROXY: proxy.url, NO_PROXY: noProxy });
      expect(result.kubectl.path, noProxy).toEqual(via.direct);
      expect(result.cli.path, noProxy).toEqual(via.direct);
      expect(result.kubectl.ok).toBe(false);
      expect(result.cli.ok).toBe(false);
      expect(result.cli.stderr).toContain('host not found');
    }
  });

  it('NO_PROXY that does not match (another domain, another port): both use the proxy', async () => {
    for (const noProxy of ['other.test,kube.example.test:1', '10.0.0.0/8']) {
      const result = await sideBySide(kubeconfig({ server: proxiedName() }), { HTTPS_PROXY: proxy.url, no_proxy: noProxy });
      expect(result.kubectl.path, noProxy).toEqual(via.http);
      expect(result.cli.path, noProxy).toEqual(via.http);
      expect(result.cli.ok, result.cli.stderr).toBe(true);
    }
  });

  it('a loopback server is never proxied via the environment', async () => {
    for (const host of ['127.0.0.1', 'localhost']) {
      const result = await sideBySide(kubeconfig({ server: server.url.replace('127.0.0.1', host) }), { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url });
      expect(result.kubectl.path, host).toEqual(via.direct);
      expect(result.cli.path, host).toEqual(via.direct);
      expect(result.kubectl.ok, result.kubectl.stderr).toBe(true);
      expect(result.cli.ok, result.cli.stderr).toBe(true);
    }
  });
});

describe.skipIf(skip)('TLS trust', () => {
  it('a kubeconfig CA that is the intermediate, not the root, is trusted (with and without the intermediate in the chain)', async () => {
    for (const target of [server, leafOnly]) {
      const result = await sideBySide(kubeconfig({ server: target.url, ca: pki.intermediateCert }), {}, target);
      expect(result.kubectl.ok, result.kubectl.stderr).toBe(true);
      expect(result.cli.ok, result.cli.stderr).toBe(true);
    }
  });

  it('the same through a proxy', async () => {
    const result = await sideBySide(kubeconfig({ server: leafOnly.url, ca: pki.intermediateCert, cluster: `    proxy-url: ${proxy.url}` }), {}, leafOnly);
    expect(result.kubectl.ok, result.kubectl.stderr).toBe(true);
    expect(result.cli.ok, result.cli.stderr).toBe(true);
    expect(result.cli.path).toEqual(via.http);
  });

  it('tls-server-name is the name checked, on the partial-chain path too', async () => {
    const named = await sideBySide(kubeconfig({ server: server.url, ca: pki.intermediateCert, cluster: '    tls-server-name: kube.example.test' }));
    expect(named.kubectl.ok, named.kubectl.stderr).toBe(true);
    expect(named.cli.ok, named.cli.stderr).toBe(true);
    const wrong = await sideBySide(kubeconfig({ server: server.url, ca: pki.intermediateCert, cluster: '    tls-server-name: elsewhere.example.test' }));
    expect(wrong.kubectl.ok).toBe(false);
    expect(wrong.kubectl.stderr).toMatch(/x509: certificate is valid for .*not elsewhere\.example\.test/);
    expect(wrong.cli.ok).toBe(false);
    expect(wrong.cli.stderr).toMatch(/TLS: the certificate of .* is not valid for this name/);
    expect(wrong.cli.reachedServer).toBe(false);
  });

  it('no CA in the kubeconfig: the OS trust store (SSL_CERT_FILE here) is used, as Go uses it', async () => {
    const roots = join(dir, 'os-roots.pem');
    writeFileSync(roots, pki.rootCert);
    const path = join(dir, `kubeconfig-${(counter += 1)}`);
    writeFileSync(path, readFileSync(kubeconfig({ server: server.url }), 'utf8').replace(/\n\s+certificate-authority-data: .*/, ''));
    const trusted = await sideBySide(path, { SSL_CERT_FILE: roots });
    expect(trusted.kubectl.ok, trusted.kubectl.stderr).toBe(true);
    expect(trusted.cli.ok, trusted.cli.stderr).toBe(true);
    const untrusted = await sideBySide(path, { SSL_CERT_FILE: join(dir, 'os-roots-missing.pem'), SSL_CERT_DIR: join(dir, 'no-such-dir') });
    expect(untrusted.kubectl.ok).toBe(false);
    expect(untrusted.cli.ok).toBe(false);
    expect(untrusted.cli.stderr).toMatch(/TLS: the certificate of .* is signed by an unknown authority/);
  });

  it('the root CA works as before', async () => {
    const result = await sideBySide(kubeconfig({ server: server.url, ca: pki.rootCert }));
    expect(result.kubectl.ok, result.kubectl.stderr).toBe(true);
    expect(result.cli.ok, result.cli.stderr).toBe(true);
  });

  it('an intermediate CA does not make a certificate for another name acceptable: both refuse, the CLI says TLS and the name', async () => {
    const result = await sideBySide(kubeconfig({ server: wrongName.url, ca: pki.intermediateCert }), {}, wrongName);
    expect(result.kubectl.ok).toBe(false);
    expect(result.kubectl.stderr).toMatch(/x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs/);
    expect(result.cli.ok).toBe(false);
    expect(result.cli.stderr).toMatch(/TLS: the certificate of https:\/\/127\.0\.0\.1:\d+ \(context "c"\) is not valid for this name/);
    expect(result.cli.stderr).not.toContain('cannot reach');
    expect(result.cli.reachedServer).toBe(false);
  });

  it('an expired server certificate: both refuse, with the root or the intermediate as the CA; the CLI says TLS and the dates', async () => {
    for (const ca of [pki.rootCert, pki.intermediateCert]) {
      const result = await sideBySide(kubeconfig({ server: expired.url, ca }), {}, expired);
      expect(result.kubectl.ok).toBe(false);
      expect(result.kubectl.stderr).toMatch(/x509: certificate has expired or is not yet valid/);
      expect(result.cli.ok).toBe(false);
      expect(result.cli.stderr).toMatch(/TLS: the certificate of .* is outside its validity dates/);
      expect(result.cli.reachedServer).toBe(false);
    }
  });

  it('a CA that signed nothing in the chain: both refuse as an unknown authority', async () => {
    const result = await sideBySide(kubeconfig({ server: server.url, ca: pki.clientCert }));
    expect(result.kubectl.ok).toBe(false);
    expect(result.kubectl.stderr).toMatch(/unknown authority/);
    expect(result.cli.ok).toBe(false);
    expect(result.cli.stderr).toMatch(/TLS: the certificate of .* is signed by an unknown authority/);
    expect(result.cli.reachedServer).toBe(false);
  });
});

describe.skipIf(skip)('start-up: the proxy modules load only when a proxy applies', () => {
  /**
   * A module hook (NODE_OPTIONS=--import, Node's module.register) appends the URL of every module the CLI
   * loads to a file; the bundle's chunks that hold a proxy agent are found by their content.
   */
  const loadedModules = async (kubeconfigPath: string): Promise<string[]> => {
    const log = join(dir, `modules-${(counter += 1)}.log`);
    writeFileSync(log, '');
    const hooks = `import { appendFileSync } from 'node:fs'; export async function load(url, context, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context); }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
    const result = await runBin(['--kubeconfig', kubeconfigPath, 'key', 'show', 'demo', '--reveal'], {
      env: cleanEnv({ NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(register)}` }),
    });
    expect(result.stderr).not.toMatch(/TLS:|proxy|cannot reach/);
    return readFileSync(log, 'utf8').split('\n').filter(Boolean);
  };
  const isProxyAgent = (url: string) => url.includes('/dist/') && /Creating new HttpsProxyAgent instance|SocksClient/.test(readFileSync(new URL(url), 'utf8'));

  it('a plain token kubeconfig loads no proxy agent; a proxy-url one loads it', async () => {
    const direct = await loadedModules(kubeconfig({ server: server.url }));
    expect(direct.some((url) => url.startsWith(`file://${repoRoot}dist/`))).toBe(true);
    expect(direct.filter(isProxyAgent)).toEqual([]);
    const proxied = await loadedModules(kubeconfig({ server: server.url, cluster: `    proxy-url: ${proxy.url}` }));
    expect(proxied.filter(isProxyAgent).length).toBeGreaterThan(0);
  });
});

describe.skipIf(skip)('kubeconfig and credentials: what kubectl refuses, and why', () => {
  const b64 = (text: string) => Buffer.from(text).toString('base64');

  it('a client certificate without its key: both refuse with client-go\'s reason, before any connection', async () => {
    const result = await sideBySide(kubeconfig({ server: server.url, user: `    client-certificate-data: ${b64(pki.clientCert)}` }));
    const reason = 'client-key-data or client-key must be specified for u to use the clientCert authentication method';
    expect(result.kubectl.stderr).toContain(reason);
    expect(result.cli.stderr).toContain(`kubeconfig context "c" is invalid: ${reason}`);
    expect(result.kubectl.reachedServer || result.cli.reachedServer).toBe(false);
  });

  it('a key that does not belong to the certificate: both fail, the CLI names the credentials, not the cluster', async () => {
    const result = await sideBySide(kubeconfig({ server: server.url, user: `    client-certificate-data: ${b64(pki.clientCert)}\n    client-key-data: ${b64(pki.strayKey)}` }));
    expect(result.kubectl.ok).toBe(false);
    expect(result.kubectl.stderr).toContain('tls: private key does not match public key');
    expect(result.cli.stderr).toContain('kubeconfig user "u": the client key does not match the client certificate (tls: private key does not match public key)');
    expect(result.cli.stderr).not.toMatch(/bug|expired|cannot reach/);
    expect(result.kubectl.reachedServer || result.cli.reachedServer).toBe(false);
  });

  it('a server without a scheme is http:// to both (kubectl v1.32 too, CA or not): both fail on the TLS port, the CLI says why', async () => {
    const bare = server.url.replace('https://', '');
    const result = await sideBySide(kubeconfig({ server: bare }));
    expect(result.kubectl.ok).toBe(false);
    expect(result.kubectl.stderr).toContain('EOF');
    expect(result.cli.ok).toBe(false);
    expect(result.cli.stderr).toContain(`cannot talk to the cluster at http://${bare} (context "c"): the connection was closed`);
    expect(result.cli.stderr).toContain(`has no scheme, so it is read as http://, as kubectl reads it; if the API server speaks TLS (most do), write https://${bare} in the kubeconfig`);
    expect(result.cli.stderr).not.toMatch(/bug|sekret/);
  });

  it('insecure-skip-tls-verify with a CA, and token with basic auth: both refuse with kubectl\'s reason', async () => {
    const insecure = await sideBySide(kubeconfig({ server: server.url, cluster: '    insecure-skip-tls-verify: true' }));
    expect(insecure.kubectl.stderr).toContain('specifying a root certificates file with the insecure flag is not allowed');
    expect(insecure.cli.stderr).toContain('specifying a root certificates file with the insecure flag is not allowed');
    const both = await sideBySide(kubeconfig({ server: server.url, user: '    token: t\n    username: a\n    password: b' }));
    const reason = 'more than one authentication method found for u; found [token basicAuth], only one is allowed';
    expect(both.kubectl.stderr).toContain(reason);
    expect(both.cli.stderr).toContain(reason);
    for (const result of [insecure, both]) {
      expect(result.cli.reachedServer || result.kubectl.reachedServer).toBe(false);
      expect(result.cli.stderr).not.toMatch(/bug/);
    }
  });
});
