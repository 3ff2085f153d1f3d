import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, ensureBuilt, runBin } from '../support/bin.js';
import { loadedModules } from '../support/loaded-modules.js';
import { spawnPty } from '../support/pty.js';
import { haveOpenssl, makeCerts, takeRuns, takeRunsBySide, writePlugin, type PluginRun, type TestCerts } from '../support/exec-fixtures.js';
import { startParityServer, type ParityServer } from '../support/parity-server.js';
import { writeKubeconfig } from '../support/kubeconfig.js';

/**
 * Exec credential plugins, kubectl and the built CLI side by side against our own TLS server that verifies client
 * certificates and accepts only known tokens: the same outcome, the same identity on the wire, the same plugin
 * runs (and what the plugin was told in KUBERNETES_EXEC_INFO). kubectl (v1.32) is the ground truth.
 */
const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((path) => existsSync(path));
if (!kubectl) console.log('connect-exec: kubectl not found, skipping the side-by-side exec plugin tests');
if (!haveOpenssl) console.log('connect-exec: openssl not found (it makes the test certificates), skipping');

let server: ParityServer;
let certs: TestCerts;
let dir: string;
let plugin: string;
let cases = 0;

function runKubectl(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    // Its own discovery cache per run, so every run makes the same requests whatever ran before.
    const cache = join(dir, `cache-${++cases}`);
    execFile(kubectl!, ['--cache-dir', cache, ...args], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, ...env } }, (error, _stdout, stderr) =>
      resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

const indent = (text: string, by: string) => text.split('\n').map((line) => (line ? by + line : line)).join('\n');

/** A kubeconfig whose user u has `user` (YAML, unindented); `cluster` adds to the cluster c. */
function kubeconfig(name: string, user: string, options: { cluster?: string; at?: string; server?: string } = {}): string {
  return writeKubeconfig(join(options.at ?? dir, name), { server: options.server ?? server.url, ca: certs.ca, cluster: options.cluster, user });
}

/** An exec section running the test plugin with these env entries (and PLUGIN_LOG = log). */
function execUser(log: string, env: Record<string, string>, extra = 'interactiveMode: Never', command = plugin): string {
  const entries = Object.entries({ PLUGIN_LOG: log, ...env }).map(([name, value]) => `  - {name: ${name}, value: ${JSON.stringify(value)}}`);
  return `exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: ${command}\n${indent(extra, '  ')}\n  env:\n${entries.join('\n')}`;
}

interface Side {
  status: number | null;
  stderr: string;
  runs: PluginRun[];
  /** The identity of the last request: what the server saw, without the path (the clients ask for different things). */
  identity?: { authorization?: string; clientCert?: string };
  statuses: number[];
}

async function sideBySide(options: { path?: string; env?: NodeJS.ProcessEnv; log: string; flags?: string[] }): Promise<{ kubectl: Side; cli: Side }> {
  const flags = [...(options.path ? ['--kubeconfig', options.path] : []), ...(options.flags ?? [])];
  server.requests.length = 0;
  takeRuns(options.log);
  // Both at once (half the wall time): the server tells them apart by User-Agent, the plugin by PLUGIN_SIDE.
  const [k, c] = await Promise.all([
    runKubectl([...flags, 'get', 'pods', '-n', 'default', '-o', 'name'], { ...options.env, PLUGIN_SIDE: 'kubectl' }),
    runBin([...flags, 'key', 'show', 'demo', '--reveal'], { env: { ...options.env, PLUGIN_SIDE: 'cli' } }),
  ]);
  const requests = server.requests.splice(0);
  const runs = takeRunsBySide(options.log);
  const observe = (status: number | null, stderr: string, fromCli: boolean): Side => {
    const mine = requests.filter((request) => (request.userAgent === 'sympozium-cli') === fromCli);
    const last = mine.at(-1);
    return {
      status,
      stderr,
      runs: runs[fromCli ? 'cli' : 'kubectl'] ?? [],
      identity: last && { authorization: last.authorization, clientCert: last.clientCert },
      statuses: mine.map((request) => request.status ?? 0),
    };
  };
  return { kubectl: observe(k.status, k.stderr, false), cli: observe(c.code, c.stderr, true) };
}

/** The CLI got past authentication: the server answered its last request with something other than 401. */
const authenticated = (side: Side) => side.statuses.length > 0 && side.statuses.at(-1) !== 401;

describe.skipIf(!kubectl || !haveOpenssl)('exec credential plugins like kubectl', () => {
  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'sympozium-exec-'));
    certs = makeCerts(dir);
    server = await startParityServer({ tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca }, acceptTokens: ['plugin-token', 'fresh-token', 'first-file', '424242'] });
    plugin = writePlugin(join(dir, 'plugin.js'));
  });
  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends the token a plugin returns, running it once in the process', async () => {
    const log = join(dir, 'token.log');
    const run = await sideBySide({ path: kubeconfig('token.yaml', execUser(log, { PLUGIN_MODE: 'token', PLUGIN_EXPIRES_IN_MS: '3600000' })), log });
    expect(run.kubectl.status).toBe(0);
    expect(run.kubectl.identity?.authorization).toBe('Bearer plugin-token');
    expect(run.cli.identity).toEqual(run.kubectl.identity);
    expect(run.kubectl.runs).toHaveLength(1);
    expect(run.cli.runs).toHaveLength(1);
    expect(run.cli.runs[0]!.info).toEqual(run.kubectl.runs[0]!.info);
    expect(run.cli.runs[0]!.info.spec).toEqual({ interactive: false });
    expect(run.cli.stderr).not.toContain('plugin-token');
  });

  it('uses a client certificate a plugin returns for the TLS connection (Teleport-style), running it once', async () => {
    const log = join(dir, 'cert.log');
    const run = await sideBySide({ path: kubeconfig('cert.yaml', execUser(log, { PLUGIN_MODE: 'cert', PLUGIN_CERT: certs.clientCertFile, PLUGIN_KEY: certs.clientKeyFile })), log });
    expect(run.kubectl.status).toBe(0);
    expect(run.kubectl.identity).toMatchObject({ clientCert: 'alice', authorization: undefined });
    expect(run.cli.identity).toEqual(run.kubectl.identity);
    expect(run.cli.statuses).not.toContain(401);
    expect(run.kubectl.runs).toHaveLength(1);
    expect(run.cli.runs).toHaveLength(1);
  });

  it('runs the plugin again once after a 401, and then succeeds', async () => {
    const log = join(dir, 'stale.log');
    const run = await sideBySide({ path: kubeconfig('stale.yaml', execUser(log, { PLUGIN_MODE: 'stale-then-fresh' })), log });
    expect(run.kubectl.status).toBe(0);
    expect(run.kubectl.runs).toHaveLength(2);
    expect(run.cli.runs).toHaveLength(2);
    expect(run.cli.identity).toEqual({ authorization: 'Bearer fresh-token', clientCert: undefined });
    expect(authenticated(run.cli)).toBe(true);
    expect(run.cli.identity?.authorization).toBe(run.kubectl.identity?.authorization);
  });

  it('runs the plugin once more, not in a loop, when the server keeps answering 401', async () => {
    const log = join(dir, 'rejected.log');
    const run = await sideBySide({ path: kubeconfig('rejected.yaml', execUser(log, { PLUGIN_MODE: 'token', PLUGIN_TOKEN: 'revoked' })), log });
    expect(run.kubectl.status).not.toBe(0);
    expect(run.cli.status).not.toBe(0);
    expect(run.cli.runs.length).toBe(2);
    expect(run.cli.stderr).toContain(`the cluster rejected the credentials of context "c" (${server.url}) (401 Unauthorized): the credentials came from the exec plugin ${plugin}`);
    expect(run.cli.stderr).not.toContain('revoked');
  });

  it('does not count a slow plugin (a login still going on) against --request-timeout, as kubectl does not', async () => {
    const log = join(dir, 'slow.log');
    const run = await sideBySide({ path: kubeconfig('slow.yaml', execUser(log, { PLUGIN_MODE: 'token', PLUGIN_SLEEP_MS: '1500' })), log, flags: ['--request-timeout', '1s'] });
    expect(run.kubectl.status).toBe(0);
    expect(authenticated(run.cli)).toBe(true);
    expect(run.cli.stderr).not.toContain('did not answer');
    expect(run.cli.identity).toEqual(run.kubectl.identity);
  });

  it('runs the plugin again for a request once its credential has expired, as kubectl does', async () => {
    const log = join(dir, 'expired.log');
    // Already expired when it arrives: client-go then runs the plugin for every request; so must we.
    const run = await sideBySide({ path: kubeconfig('expired.yaml', execUser(log, { PLUGIN_MODE: 'token', PLUGIN_EXPIRES_IN_MS: '-1000' })), log });
    expect(run.kubectl.status).toBe(0);
    // kubectl makes five requests here and runs the plugin six times (once more while setting up). The CLI's
    // requests that start together share one run in flight; each later one runs the plugin again.
    expect(run.kubectl.runs.length).toBeGreaterThanOrEqual(run.kubectl.statuses.length);
    expect(run.cli.runs.length).toBeGreaterThan(1);
    expect(run.cli.runs.length).toBeLessThanOrEqual(run.cli.statuses.length);
    expect(run.cli.identity).toEqual(run.kubectl.identity);
  });

  it('passes cluster info in KUBERNETES_EXEC_INFO with provideClusterInfo, exactly as kubectl', async () => {
    const log = join(dir, 'info.log');
    const cluster = 'tls-server-name: localhost\nextensions:\n- name: client.authentication.k8s.io/exec\n  extension: {audience: sympozium, nested: {a: [1, 2]}}';
    const path = kubeconfig('info.yaml', execUser(log, { PLUGIN_MODE: 'token' }, 'interactiveMode: IfAvailable\nprovideClusterInfo: true'), { cluster });
    const run = await sideBySide({ path, log });
    expect(run.kubectl.status).toBe(0);
    const cluster1 = run.kubectl.runs[0]!.info.spec!.cluster!;
    expect(cluster1).toMatchObject({ server: server.url, 'tls-server-name': 'localhost', config: { audience: 'sympozium' } });
    expect(run.cli.runs[0]!.info).toEqual(run.kubectl.runs[0]!.info);
    expect(run.cli.identity).toEqual(run.kubectl.identity);
  });

  it('resolves a relative command against the kubeconfig directory, not the working directory', async () => {
    const sub = join(dir, 'relative');
    mkdirSync(join(sub, 'plugins'), { recursive: true });
    writePlugin(join(sub, 'plugins', 'auth.js'));
    const log = join(dir, 'relative.log');
    const run = await sideBySide({ path: kubeconfig('config', execUser(log, { PLUGIN_MODE: 'token' }, 'interactiveMode: Never', './plugins/auth.js'), { at: sub }), log });
    expect(run.kubectl.status).toBe(0);
    expect(run.cli.identity).toEqual(run.kubectl.identity);
    expect(run.cli.runs).toHaveLength(1);
  });

  it('shows the installHint when the plugin is not installed, and says it is a credentials problem', async () => {
    const log = join(dir, 'missing.log');
    const hint = 'Install the example plugin: brew install example-auth';
    const run = await sideBySide({ path: kubeconfig('missing.yaml', execUser(log, {}, `interactiveMode: Never\ninstallHint: "${hint}"`, 'example-auth-not-installed')), log });
    expect(run.kubectl.status).not.toBe(0);
    expect(run.kubectl.stderr).toContain(hint);
    expect(run.cli.status).toBe(1);
    expect(run.cli.stderr).toContain(hint);
    expect(run.cli.stderr).toMatch(/could not get credentials for context "c": exec: executable example-auth-not-installed not found/);
    expect(run.cli.stderr).not.toMatch(/bug/i);
  });

  it('refuses interactiveMode Always without a terminal, with kubectl\'s reason, without running the plugin', async () => {
    const log = join(dir, 'always.log');
    const run = await sideBySide({ path: kubeconfig('always.yaml', execUser(log, { PLUGIN_MODE: 'token' }, 'interactiveMode: Always')), log });
    const reason = 'exec plugin cannot support interactive mode: standard input is not a terminal';
    expect(run.kubectl.status).not.toBe(0);
    expect(run.kubectl.stderr).toContain(reason);
    expect(run.cli.status).toBe(1);
    expect(run.cli.stderr).toContain(reason);
    expect(run.kubectl.runs).toHaveLength(0);
    expect(run.cli.runs).toHaveLength(0);
  });

  it('passes the plugin\'s stderr through, and on failure names the plugin, its exit code and its last words', async () => {
    const log = join(dir, 'stderr.log');
    const ok = await sideBySide({ path: kubeconfig('stderr.yaml', execUser(log, { PLUGIN_MODE: 'token', PLUGIN_STDERR: 'To sign in, open https://login.example/device and enter ABCD-EFGH' })), log });
    expect(ok.kubectl.stderr).toContain('enter ABCD-EFGH');
    expect(ok.cli.stderr).toContain('enter ABCD-EFGH');
    const failing = await sideBySide({ path: kubeconfig('fail.yaml', execUser(log, { PLUGIN_MODE: 'fail', PLUGIN_EXIT: '3' })), log });
    expect(failing.kubectl.status).not.toBe(0);
    expect(failing.kubectl.stderr).toContain('exit code 3');
    expect(failing.cli.status).toBe(1);
    expect(failing.cli.stderr).toContain(`could not get credentials for context "c": the exec plugin ${plugin} failed with exit code 3`);
    expect(failing.cli.stderr).toContain('login failed: no session');
    expect(failing.cli.stderr).toMatch(/Run `.*plugin\.js` by hand/);
  });

  it('refuses a credential the plugin got wrong, with kubectl\'s reason and without quoting it', async () => {
    const log = join(dir, 'wrong.log');
    const cases = [
      ['wrong-version', 'exec plugin is configured to use API version client.authentication.k8s.io/v1, plugin returned version client.authentication.k8s.io/v1beta1'],
      ['cert-only', 'exec plugin returned only certificate or key, not both'],
    ] as const;
    for (const [mode, reason] of cases) {
      const run = await sideBySide({ path: kubeconfig(`${mode}.yaml`, execUser(log, { PLUGIN_MODE: mode, PLUGIN_CERT: certs.clientCertFile })), log });
      expect(run.kubectl.status, mode).not.toBe(0);
      expect(run.kubectl.stderr, mode).toContain(reason);
      expect(run.cli.status, mode).toBe(1);
      expect(run.cli.stderr, mode).toContain(`could not get credentials for context "c": ${reason}`);
      expect(run.cli.stderr, mode).not.toMatch(/plugin-token|BEGIN CERTIFICATE/);
    }
  });

  it('with both a token (or tokenFile) and an exec plugin, sends the token and never runs the plugin', async () => {
    const log = join(dir, 'both.log');
    writeFileSync(join(dir, 'token-file'), 'plugin-token\n');
    for (const [name, credential] of [['both.yaml', 'token: plugin-token'], ['both-file.yaml', 'tokenFile: token-file']]) {
      const run = await sideBySide({ path: kubeconfig(name, `${credential}\n${execUser(log, { PLUGIN_MODE: 'token', PLUGIN_TOKEN: 'from-plugin' })}`), log });
      expect(run.kubectl.status, name).toBe(0);
      expect(run.kubectl.identity?.authorization, name).toBe('Bearer plugin-token');
      expect(run.kubectl.runs, name).toHaveLength(0);
      expect(run.cli.runs, name).toHaveLength(0);
      expect(run.cli.identity, name).toEqual(run.kubectl.identity);
    }
  });

  it('on a terminal, hands the plugin stdin and the prompt (an MFA code typed reaches it), as kubectl does', async () => {
    const log = join(dir, 'prompt.log');
    const path = kubeconfig('prompt.yaml', execUser(log, { PLUGIN_MODE: 'prompt' }, 'interactiveMode: IfAvailable'));
    const typeCode = async (file: string, args: string[]) => {
      const session = spawnPty(file, args, { env: { ...process.env, NO_COLOR: '1', CI: '1' } });
      try {
        await session.waitFor(/MFA code:/);
        session.write('424242\r');
        await session.exited(15_000);
      } finally {
        session.kill();
      }
      const requests = server.requests.splice(0);
      return { runs: takeRuns(log), last: requests.at(-1) };
    };
    server.requests.length = 0;
    takeRuns(log);
    const fromKubectl = await typeCode(kubectl!, ['--cache-dir', join(dir, 'cache-pty'), '--kubeconfig', path, 'get', 'pods', '-n', 'default', '-o', 'name']);
    const fromCli = await typeCode(process.execPath, [binPath, '--kubeconfig', path, 'key', 'show', 'demo', '--reveal']);
    expect(fromKubectl.last?.authorization).toBe('Bearer 424242');
    expect(fromCli.last?.authorization).toBe('Bearer 424242');
    expect(fromCli.last?.status).not.toBe(401);
    expect(fromKubectl.runs[0]).toMatchObject({ stdinTTY: true, info: { spec: { interactive: true } } });
    expect(fromCli.runs).toEqual(fromKubectl.runs.slice(0, 1));
  }, 40_000);

  it('loads the exec module only for a kubeconfig with an exec plugin', async () => {
    const log = join(dir, 'modules.log');
    const chunk = (files: string[]) => files.filter((file) => /dist\/chunks\/exec-plugin-/.test(file));
    const withToken = await loadedModules(['--kubeconfig', kubeconfig('modules-token.yaml', 'token: plugin-token'), 'key', 'show', 'demo', '--reveal']);
    const withExec = await loadedModules(['--kubeconfig', kubeconfig('modules-exec.yaml', execUser(log, { PLUGIN_MODE: 'token' })), 'key', 'show', 'demo', '--reveal']);
    expect(withToken.some((file) => file.endsWith('dist/main.js'))).toBe(true);
    expect(chunk(withToken)).toEqual([]);
    expect(chunk(withExec)).toHaveLength(1);
    expect(withExec.filter((file) => file.includes('@kubernetes/client-node'))).toEqual([]);
  });

  it('checks the exec section even beside a token, refusing what kubectl refuses', async () => {
    const log = join(dir, 'checked.log');
    const path = kubeconfig('checked.yaml', `token: plugin-token\nexec: {apiVersion: client.authentication.k8s.io/v1, command: ${plugin}}`);
    const run = await sideBySide({ path, log });
    const reason = 'interactiveMode must be specified for u to use exec authentication plugin';
    expect(run.kubectl.status).not.toBe(0);
    expect(run.kubectl.stderr).toContain(reason);
    expect(run.cli.status).toBe(2);
    expect(run.cli.stderr).toContain(reason);
    expect(run.cli.statuses).toEqual([]);
  });

  it('refuses an invalid exec section with kubectl\'s reasons, running nothing', async () => {
    const log = join(dir, 'invalid.log');
    const cases: [string, string][] = [
      ['{apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never}', 'command must be specified for u to use exec authentication plugin'],
      [`{command: ${plugin}, interactiveMode: Never}`, 'apiVersion must be specified for u to use exec authentication plugin'],
      [`{apiVersion: client.authentication.k8s.io/v1, command: ${plugin}, interactiveMode: Sometimes}`, 'invalid interactiveMode for u: "Sometimes"'],
      [`{apiVersion: client.authentication.k8s.io/v1alpha1, command: ${plugin}}`, 'exec plugin: invalid apiVersion "client.authentication.k8s.io/v1alpha1"'],
      [`{apiVersion: client.authentication.k8s.io/v1, command: ${plugin}, interactiveMode: Never, env: [{value: a}]}`, 'env variable name must be specified for u to use exec authentication plugin'],
    ];
    for (const [index, [exec, reason]] of cases.entries()) {
      const run = await sideBySide({ path: kubeconfig(`invalid-${index}.yaml`, `exec: ${exec}`), log });
      expect(run.kubectl.stderr, exec).toContain(reason);
      expect(run.cli.stderr, exec).toContain(`error: ${reason}`);
      expect(run.cli.status, exec).toBe(2);
      expect([...run.kubectl.statuses, ...run.cli.statuses], exec).toEqual([]);
    }
  });

  describe('merged kubeconfigs with exec users', () => {
    it('two files defining the same names: the first file wins', async () => {
      const log = join(dir, 'merge.log');
      const first = kubeconfig('merge-a.yaml', execUser(log, { PLUGIN_MODE: 'token', PLUGIN_TOKEN: 'first-file' }));
      const second = kubeconfig('merge-b.yaml', execUser(log, { PLUGIN_MODE: 'token', PLUGIN_TOKEN: 'second-file' }), { server: 'https://127.0.0.1:1' });
      const run = await sideBySide({ env: { KUBECONFIG: [first, second].join(delimiter) }, log });
      expect(run.kubectl.status).toBe(0);
      expect(run.kubectl.identity?.authorization).toBe('Bearer first-file');
      expect(run.cli.identity).toEqual(run.kubectl.identity);
      expect(run.cli.stderr).not.toMatch(/bug/i);
    });

    it('the same file listed twice', async () => {
      const log = join(dir, 'twice.log');
      const path = kubeconfig('twice.yaml', execUser(log, { PLUGIN_MODE: 'token' }));
      const run = await sideBySide({ env: { KUBECONFIG: [path, path].join(delimiter) }, log });
      expect(run.kubectl.status).toBe(0);
      expect(run.cli.identity).toEqual(run.kubectl.identity);
      expect(run.cli.runs).toHaveLength(1);
    });

    it('an unused, incomplete entry in another file', async () => {
      const log = join(dir, 'unused.log');
      const used = kubeconfig('used.yaml', execUser(log, { PLUGIN_MODE: 'token' }));
      const broken = join(dir, 'broken.yaml');
      writeFileSync(broken, 'apiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster: {}\nusers:\n- name: other\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1}\ncontexts:\n- name: other\n  context: {cluster: other, user: other}\n');
      const run = await sideBySide({ env: { KUBECONFIG: [used, broken].join(delimiter) }, log });
      expect(run.kubectl.status).toBe(0);
      expect(authenticated(run.cli)).toBe(true);
      expect(run.cli.identity).toEqual(run.kubectl.identity);
      expect(run.cli.stderr).not.toMatch(/bug/i);
    });
  });
});
