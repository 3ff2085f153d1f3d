import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runBin } from '../support/bin.js';
import { startParityServer, type ParityServer } from '../support/parity-server.js';
import { writeKubeconfig } from '../support/kubeconfig.js';

/**
 * kubectl and the built CLI side by side on the same kubeconfig against our own recording server: the same
 * outcome and the same identity on the wire. kubectl is the ground truth; without it the file is skipped.
 */
const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((path) => existsSync(path));
if (!kubectl) console.log('connect-parity: kubectl not found, skipping the side-by-side tests');

let server: ParityServer;

/** kubectl asynchronously: the recording server runs in this process and must keep answering meanwhile. */
function runKubectl(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectl!, args, { encoding: 'utf8', timeout: 10_000 }, (error, _stdout, stderr) =>
      resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}
let dir: string;

// `user` is passed indented for its place under `user:`; the helper indents again, so it is undone here.
const kubeconfig = (name: string, user: string) =>
  writeKubeconfig(join(dir, name), { server: server.url, user: user.split('\n').map((line) => line.replace(/^ {4}/, '')).join('\n') });

/** What each client sent on its requests (the identity is the same on all of them). */
async function sideBySide(path: string, flags: string[] = []) {
  server.requests.length = 0;
  const kubectlRun = await runKubectl(['--kubeconfig', path, ...flags, 'get', 'pods', '-n', 'default', '-o', 'name']);
  const fromKubectl = server.requests.splice(0).at(-1);
  const cli = await runBin(['--kubeconfig', path, ...flags, 'key', 'show', 'demo', '--reveal']);
  const fromCli = server.requests.splice(0).at(-1);
  const strip = (request: typeof fromCli) => request && { ...request, path: undefined, status: undefined, userAgent: undefined };
  return { kubectlRun, cli, kubectl: strip(fromKubectl), ours: strip(fromCli) };
}

describe.skipIf(!kubectl)('connect like kubectl', () => {
  beforeAll(async () => {
    ensureBuilt();
    server = await startParityServer();
    dir = mkdtempSync(join(tmpdir(), 'sympozium-parity-'));
  });
  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends no credentials over plain http, as kubectl does', async () => {
    const run = await sideBySide(kubeconfig('token.yaml', '    token: secret-token'));
    expect(run.kubectlRun.status).toBe(0);
    expect(run.kubectl?.authorization).toBeUndefined();
    expect(run.ours).toEqual(run.kubectl);
  });

  it('runs no exec plugin for a plain http server, as kubectl does', async () => {
    const marker = join(dir, 'exec-ran');
    const plugin = join(dir, 'marker-plugin.sh');
    writeFileSync(plugin, `#!/bin/sh\necho ran >> ${marker}\necho '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"x"}}'\n`, { mode: 0o755 });
    const run = await sideBySide(kubeconfig('http-exec.yaml', `    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ${plugin}}`));
    expect(run.kubectlRun.status).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(run.ours).toEqual(run.kubectl);
  });

  it('impersonates from the kubeconfig user like kubectl, extra keys encoded the same', async () => {
    const run = await sideBySide(kubeconfig('as.yaml', '    token: t\n    as: alice\n    as-groups: [devs, ops]\n    as-uid: "42"\n    as-user-extra:\n      scopes.example.com/x y: [a]'));
    expect(run.kubectlRun.status).toBe(0);
    expect(run.kubectl?.impersonateUser).toBe('alice');
    expect(run.ours).toEqual(run.kubectl);
  });

  it('impersonates from --as/--as-group/--as-uid like kubectl', async () => {
    const run = await sideBySide(kubeconfig('flags.yaml', '    token: t'), ['--as', 'bob', '--as-group', 'g1', '--as-group', 'g2', '--as-uid', '7']);
    expect(run.kubectlRun.status).toBe(0);
    expect(run.kubectl?.impersonateGroups).toEqual(['g1', 'g2']);
    expect(run.ours).toEqual(run.kubectl);
  });

  it('refuses --as-group without --as, as kubectl does', async () => {
    const path = kubeconfig('nogroup.yaml', '    token: t');
    const kubectlRun = await runKubectl(['--kubeconfig', path, '--as-group', 'g', 'get', 'pods']);
    const cli = await runBin(['--kubeconfig', path, '--as-group', 'g', 'key', 'show', 'demo', '--reveal']);
    expect(kubectlRun.status).not.toBe(0);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('requesting uid, groups or user-extra for u without impersonating a user');
    expect(kubectlRun.stderr).toContain('requesting uid, groups or user-extra for u without impersonating a user');
  });

  it('reads a kubeconfig with a duplicate key and a YAML 1.1 boolean, as kubectl does', async () => {
    const path = kubeconfig('dup.yaml', '    token: a\n    token: b');
    const run = await sideBySide(path);
    expect(run.kubectlRun.status).toBe(0);
    expect(run.cli.stderr).not.toMatch(/not valid YAML|bug/);
    expect(run.ours).toEqual(run.kubectl);
  });

  it('refuses an exec v1 plugin without interactiveMode, as kubectl does', async () => {
    const path = kubeconfig('exec-v1.yaml', '    exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/true}');
    const kubectlRun = await runKubectl(['--kubeconfig', path, 'get', 'pods']);
    const cli = await runBin(['--kubeconfig', path, 'key', 'show', 'demo', '--reveal']);
    const reason = 'interactiveMode must be specified for u to use exec authentication plugin';
    expect(kubectlRun.stderr).toContain(reason);
    expect(cli.stderr).toContain(reason);
    expect(cli.code).toBe(2);
  });
});
