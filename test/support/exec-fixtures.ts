import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Fixtures for the exec-plugin side-by-side tests: a CA with a server and a client certificate made with the
 * openssl CLI at test time (nothing secret is checked in), and one small exec credential plugin, a node script
 * driven by the env entries of the kubeconfig's exec section, that logs every run it makes.
 */

const opensslPath = ['/usr/bin/openssl', '/usr/local/bin/openssl'].find((path) => existsSync(path));
export const haveOpenssl = opensslPath !== undefined;

export interface TestCerts {
  ca: string;
  serverCert: string;
  serverKey: string;
  /** CN=alice, signed by the same CA: what the cert plugin returns. */
  clientCertFile: string;
  clientKeyFile: string;
}

export function makeCerts(dir: string): TestCerts {
  const openssl = (...args: string[]) => execFileSync(opensslPath!, args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=parity-ca', '-days', '2');
  const sign = (name: string, subject: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl('req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  };
  sign('server', '/CN=parity-server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  sign('client', '/O=devs/CN=alice', 'extendedKeyUsage=clientAuth\n');
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return { ca: read('ca.crt'), serverCert: read('server.crt'), serverKey: read('server.key'), clientCertFile: join(dir, 'client.crt'), clientKeyFile: join(dir, 'client.key') };
}

/**
 * The plugin. PLUGIN_LOG gets one JSON line per run (its KUBERNETES_EXEC_INFO and whether stdin was a terminal);
 * PLUGIN_MODE is token, cert, stale-then-fresh (a rejected token on the first run), prompt (reads the token from
 * stdin), fail (exit PLUGIN_EXIT), wrong-version (v1beta1 output) or cert-only (no key); PLUGIN_STDERR is written to stderr; PLUGIN_EXPIRES_IN_MS sets the expiry;
 * PLUGIN_SLEEP_MS makes it take that long (a login the user is still finishing).
 */
const pluginSource = `#!/usr/bin/env node
const fs = require('node:fs');
const env = process.env;
const info = JSON.parse(env.KUBERNETES_EXEC_INFO || '{}');
// PLUGIN_SIDE comes from the client's own environment (kubectl and the CLI both pass theirs on), so two clients
// can run at once against one log and still count their own runs.
const side = env.PLUGIN_SIDE || '';
const runs = env.PLUGIN_LOG && fs.existsSync(env.PLUGIN_LOG) ? fs.readFileSync(env.PLUGIN_LOG, 'utf8').split('\\n').filter((line) => line && JSON.parse(line).side === side).length : 0;
if (env.PLUGIN_LOG) fs.appendFileSync(env.PLUGIN_LOG, JSON.stringify({ info, stdinTTY: Boolean(process.stdin.isTTY), side }) + '\\n');
if (env.PLUGIN_STDERR) process.stderr.write(env.PLUGIN_STDERR + '\\n');
if (env.PLUGIN_SLEEP_MS) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(env.PLUGIN_SLEEP_MS));
const reply = (status) => {
  if (env.PLUGIN_EXPIRES_IN_MS) status.expirationTimestamp = new Date(Date.now() + Number(env.PLUGIN_EXPIRES_IN_MS)).toISOString().replace(/\\.\\d+Z$/, 'Z');
  process.stdout.write(JSON.stringify({ kind: 'ExecCredential', apiVersion: info.apiVersion, status }));
};
const mode = env.PLUGIN_MODE || 'token';
if (mode === 'fail') { process.stderr.write('login failed: no session\\n'); process.exit(Number(env.PLUGIN_EXIT || 1)); }
if (mode === 'token') reply({ token: env.PLUGIN_TOKEN || 'plugin-token' });
if (mode === 'wrong-version') { info.apiVersion = 'client.authentication.k8s.io/v1beta1'; reply({ token: 'plugin-token' }); }
if (mode === 'cert-only') reply({ clientCertificateData: fs.readFileSync(env.PLUGIN_CERT, 'utf8') });
if (mode === 'stale-then-fresh') reply({ token: runs === 0 ? 'stale-token' : 'fresh-token' });
if (mode === 'cert') reply({ clientCertificateData: fs.readFileSync(env.PLUGIN_CERT, 'utf8'), clientKeyData: fs.readFileSync(env.PLUGIN_KEY, 'utf8') });
if (mode === 'prompt') {
  process.stderr.write('MFA code: ');
  let typed = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    typed += chunk;
    if (typed.includes('\\n') || typed.includes('\\r')) { process.stdin.pause(); reply({ token: typed.trim() }); process.exit(0); }
  });
}
`;

export function writePlugin(path: string): string {
  writeFileSync(path, pluginSource);
  chmodSync(path, 0o755);
  return path;
}

export interface PluginRun {
  info: { apiVersion?: string; kind?: string; spec?: { interactive?: boolean; cluster?: Record<string, unknown> } };
  stdinTTY: boolean;
  side: string;
}

/** The runs logged since the last call (only those of `side`, when given), and a fresh log for the next call. */
export function takeRuns(log: string, side?: string): PluginRun[] {
  if (!existsSync(log)) return [];
  const runs = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as PluginRun);
  writeFileSync(log, '');
  return side === undefined ? runs : runs.filter((run) => run.side === side);
}

/** takeRuns for two clients at once: each one's runs, by the PLUGIN_SIDE it ran with. */
export function takeRunsBySide(log: string): Record<string, PluginRun[]> {
  const bySide: Record<string, PluginRun[]> = {};
  for (const run of takeRuns(log)) (bySide[run.side] ??= []).push(run);
  return bySide;
}
