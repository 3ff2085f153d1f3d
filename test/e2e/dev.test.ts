import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildPrivateCopy, runPrivateBin, type PrivateBuild } from '../support/private-build.js';
import { follow } from './cluster-support.js';

/**
 * `sympozium dev up|status|env|logs|down` through the built bin, with a temporary state directory and HOME:
 * the background server starts, is found again by a second `up`, answers like a cluster through the
 * kubeconfig it writes, merges into and is removed from the user's kubeconfig, and keeps objects with --persist.
 */

let build: PrivateBuild;
let home: string;
let stateDir: string;

const env = () => ({ SYMPOZIUM_DEV_TIMINGS: 'fast', HOME: home });
const dev = (args: string[]) => runPrivateBin(build.bin, ['dev', ...args, '--state-dir', stateDir], { cwd: home, env: env(), timeoutMs: 40_000 });

function serverInfo(): { pid: number; url: string; port: number } | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, 'server.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie waiting for the container's init to reap it. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)?.[0] !== 'Z';
  } catch {
    return true;
  }
}

function token(): string {
  return /token:\s*(\S+)/.exec(readFileSync(join(stateDir, 'kubeconfig'), 'utf8'))![1]!;
}

beforeAll(() => {
  build = buildPrivateCopy('sympozium-dev-e2e-');
  home = mkdtempSync(join(build.dir, 'home-'));
  stateDir = join(home, 'state');
});

afterAll(() => {
  // Never leave a server behind, even when a test failed half-way.
  const info = serverInfo();
  if (info) {
    try {
      process.kill(info.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  build?.remove();
});

describe('sympozium dev', () => {
  test('status before up says it is not running', async () => {
    const result = await dev(['status']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not running');
  });

  test('up starts it in the background, a second up finds it, status/env/logs describe it, down stops it', async () => {
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(
      join(home, '.kube', 'config'),
      '# mine\napiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster: {server: "https://prod.example.com"}\ncontexts:\n- name: prod\n  context: {cluster: prod, user: prod}\ncurrent-context: prod\nusers:\n- name: prod\n  user: {token: abc}\n',
    );
    const up = await dev(['up', '--merge-kubeconfig']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/Local control plane running at https?:\/\/127\.0\.0\.1:\d+ \(pid \d+\)/);
    expect(up.stdout).toContain('eval "$(sympozium dev env)"');
    // The default release, the SympoziumInstance era the CLI is built for.
    expect(up.stdout).toMatch(/^  release\s+Sympozium v0\.5\.8$/m);
    const info = serverInfo()!;
    expect(info.pid).toBeGreaterThan(0);
    expect(existsSync(join(stateDir, 'kubeconfig'))).toBe(true);

    const merged = readFileSync(join(home, '.kube', 'config'), 'utf8');
    expect(merged).toContain('# mine');
    expect(merged).toContain('name: prod');
    expect(merged).toContain('name: sympozium-dev');
    expect(merged).toMatch(/current-context: prod/);

    const again = await dev(['up']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already running');
    expect(serverInfo()!.pid).toBe(info.pid);

    const status = await runPrivateBin(build.bin, ['dev', 'status', '--state-dir', stateDir, '-o', 'json'], { cwd: home, env: env() });
    expect(status.code, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout);
    expect(parsed).toMatchObject({ running: true, pid: info.pid, url: info.url, context: 'sympozium-dev', logFile: join(stateDir, 'dev.log'), release: 'v0.5.8' });
    // v0.5.8's config/skills: nine packs (subagents came later).
    expect(parsed.objects).toMatchObject({ skillpacks: 9, sympoziumpolicies: 3, sympoziuminstances: 0 });
    const table = await dev(['status']);
    expect(table.stdout).toMatch(/address\s+https?:\/\/127\.0\.0\.1:\d+/);
    expect(table.stdout).toMatch(/up \d+/);
    expect(table.stdout).toMatch(/^release\s+Sympozium v0\.5\.8$/m);
    // Honest about the rest: what a real cluster does and dev does not, in the table and in -o json.
    expect(table.stdout).toMatch(/^not emulated .*:\n(  - .+\n?)+/m);
    expect(table.stdout).toMatch(/echo model answers unless the instance sets agents\.default\.baseURL/);
    expect(table.stdout).toMatch(/Envoy Gateway/);
    expect(parsed.notEmulated.length).toBeGreaterThan(4);
    expect(parsed.notEmulated.join('\n')).toMatch(/nodes, images and containers/);

    const printed = await dev(['env']);
    expect(printed.stdout.trim()).toBe(`export KUBECONFIG=${join(stateDir, 'kubeconfig')}`);

    // It answers like a cluster, with the token of the kubeconfig it wrote.
    const packs = await fetch(`${info.url}/apis/sympozium.ai/v1alpha1/namespaces/sympozium-system/skillpacks`, { headers: { Authorization: `Bearer ${token()}` } });
    expect(((await packs.json()) as { items: unknown[] }).items).toHaveLength(9);

    const logs = await dev(['logs']);
    expect(logs.stdout).toContain('local control plane ready');

    const down = await dev(['down']);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stderr).toContain('Stopped');
    expect(running(info.pid)).toBe(false);
    expect(serverInfo()).toBeUndefined();
    const unmerged = readFileSync(join(home, '.kube', 'config'), 'utf8');
    expect(unmerged).not.toContain('sympozium-dev');
    expect(unmerged).toContain('name: prod');

    const after = await dev(['status']);
    expect(after.code).toBe(1);
    const downAgain = await dev(['down']);
    expect(downAgain.code).toBe(0);
    expect(downAgain.stderr).toContain('not running');
  });

  test('--persist writes before it acknowledges: a kill -9 right after a write loses nothing; a restart keeps token and port', async () => {
    const up = await dev(['up', '--persist']);
    expect(up.code, up.stderr).toBe(0);
    let info = serverInfo()!;
    const tokenBefore = token();
    const created = await fetch(`${info.url}/api/v1/namespaces/default/secrets`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${tokenBefore}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'kept' }, stringData: { a: 'b' } }),
    });
    expect(created.status).toBe(201);
    // Acknowledged means written: the state file names it already, and a kill -9 now cannot lose it.
    expect(readFileSync(join(stateDir, 'state.json'), 'utf8')).toContain('"kept"');
    process.kill(info.pid, 'SIGKILL');
    for (const started = Date.now(); running(info.pid) && Date.now() - started < 5_000; ) await new Promise((resolve) => setTimeout(resolve, 20));

    expect((await dev(['up', '--persist'])).code).toBe(0);
    const before = info;
    info = serverInfo()!;
    expect(info.pid).not.toBe(before.pid);
    expect(token()).toBe(tokenBefore);
    expect(info.port).toBe(before.port);
    const kept = await fetch(`${info.url}/api/v1/namespaces/default/secrets/kept`, { headers: { Authorization: `Bearer ${token()}` } });
    expect(kept.status).toBe(200);
    expect((await dev(['down'])).code).toBe(0);
    rmSync(join(stateDir, 'state.json'), { force: true });
  });

  test('a runs tail started before a restart carries on with the new server', async () => {
    expect((await dev(['up'])).code).toBe(0);
    const kubeconfig = join(home, 'held-kubeconfig');
    writeFileSync(kubeconfig, readFileSync(join(stateDir, 'kubeconfig'), 'utf8'), { mode: 0o600 });
    const tail = follow(['runs', 'tail', '-o', 'json'], { KUBECONFIG: kubeconfig, HOME: home });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect((await dev(['down'])).code).toBe(0);
      expect((await dev(['up'])).code).toBe(0);
      const info = serverInfo()!;
      const created = await fetch(`${info.url}/apis/sympozium.ai/v1alpha1/namespaces/default/agentruns`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token()}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          apiVersion: 'sympozium.ai/v1alpha1',
          kind: 'AgentRun',
          metadata: { name: 'after-restart', labels: { 'sympozium.ai/instance': 'nobody' } },
          spec: { instanceRef: 'nobody', agentId: 'primary', sessionKey: 's', task: 'hi', model: { provider: 'openai', model: 'gpt-4.1', authSecretRef: '' } },
        }),
      });
      expect(created.status).toBe(201);
      await tail.waitFor((lines) => lines.some((line) => line.includes('"after-restart"')), 'the run created after the restart', 20_000);
      expect(tail.stderr()).not.toContain('log in again');
    } finally {
      await tail.interrupt();
      await dev(['down']);
    }
  }, 60_000);
});
