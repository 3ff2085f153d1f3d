import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { startLocalControlPlane, type LocalControlPlane } from '../../src/dev/index.js';
import { ensureBuilt, runBin, type RunResult } from '../support/bin.js';

/**
 * The data-loss guards, through the built bin: a name the API server would refuse (empty, ".", "..", a
 * slash, upper case, too long) is refused for every command that takes one, exit 2, with nothing changed on
 * the cluster; deleting many instances is only ever explicit and confirmed; and every file the CLI writes is
 * a regular file (FIFOs, sockets and directories refused, symlinks written through). Hostile targets are
 * only ever files this test creates in its own temporary directory.
 */

let plane: LocalControlPlane;
let dir: string;
let kubeconfig: string;
let kube: KubeClient;

const env = () => ({ KUBECONFIG: kubeconfig, HOME: dir, SYMPOZIUM_API_KEY: '' });
const cli = (args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) =>
  runBin(args, { env: { ...env(), ...options.env }, cwd: options.cwd ?? dir, timeoutMs: 30_000 });

const instance = (name: string, namespace: string, labels = '') => `apiVersion: sympozium.ai/v1alpha1
kind: SympoziumInstance
metadata:
  name: ${name}
  namespace: ${namespace}
${labels ? `  labels: {${labels}}\n` : ''}spec:
  agents:
    default:
      model: gpt-4.1
`;

/** Every object a command could have touched, with its resourceVersion: a change of any is visible. */
async function snapshot(): Promise<string[]> {
  const paths = ['/apis/sympozium.ai/v1alpha1/sympoziuminstances', '/apis/sympozium.ai/v1alpha1/agentruns', '/api/v1/secrets', '/api/v1/namespaces'];
  const lists = await Promise.all(paths.map((path) => kube.list(path)));
  return lists.flatMap((list, index) => list.items.map((item) => `${paths[index]} ${item.metadata.namespace ?? ''}/${item.metadata.name} ${item.metadata.resourceVersion}`)).sort();
}

/** The controller reconciles what apply created for a moment afterwards: wait until nothing moves. */
async function settled(): Promise<string[]> {
  let previous = await snapshot();
  for (let tries = 0; tries < 50; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const current = await snapshot();
    if (current.join('\n') === previous.join('\n')) return current;
    previous = current;
  }
  throw new Error('the cluster never settled');
}

async function inBatches<T, R>(items: T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) results.push(...(await Promise.all(items.slice(start, start + size).map(work))));
  return results;
}

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sympozium-names-'));
  plane = await startLocalControlPlane();
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, plane.kubeconfigYaml(), { mode: 0o600 });
  kube = createKubeClient({ globals: { kubeconfig }, env: {} });
  await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b' } });
  writeFileSync(join(dir, 'instances.yaml'), [instance('demo', 'default', 'app: x'), instance('other', 'default'), instance('far', 'team-b')].join('---\n'));
  const applied = await cli(['apply', '-f', join(dir, 'instances.yaml')]);
  expect(applied.code, applied.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  kube?.close();
  await plane?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const badNames = ['', '.', '..', 'a/b', 'Demo', 'x'.repeat(254)];

/** Each command that names an object, with the bad name put where the name goes. */
const commands: [string, (name: string) => string[]][] = [
  ['instances get', (name) => ['instances', 'get', name]],
  ['instances describe', (name) => ['instances', 'describe', name]],
  ['instances delete', (name) => ['instances', 'delete', name, '--no-wait']],
  ['instances delete (second name)', (name) => ['instances', 'delete', 'demo', name, '--no-wait']],
  ['enable web-endpoint', (name) => ['enable', 'web-endpoint', name, '--no-wait']],
  ['enable web-endpoint --auth-secret', (name) => ['enable', 'web-endpoint', 'demo', '--auth-secret', name, '--no-wait']],
  ['disable web-endpoint', (name) => ['disable', 'web-endpoint', name, '--no-wait']],
  ['key show', (name) => ['key', 'show', name, '--reveal']],
  ['key rotate', (name) => ['key', 'rotate', name]],
  ['runs list --instance', (name) => ['runs', 'list', '--instance', name]],
  ['runs get', (name) => ['runs', 'get', name]],
  ['runs tail', (name) => ['runs', 'tail', name]],
  ['runs tail --run', (name) => ['runs', 'tail', '--run', name, '--until-done']],
  ['chat', (name) => ['chat', name, 'hello']],
  ['models', (name) => ['models', name]],
  ['mcp', (name) => ['mcp', name, 'tools']],
  ['init', (name) => ['init', name, '--yes', '--out', '-']],
];

describe('names are checked before any request', () => {
  it('refuses every bad name for every command that takes one (exit 2), and nothing on the cluster changes', async () => {
    const before = await settled();
    expect(before.filter((line) => line.includes('sympoziuminstances'))).toHaveLength(3);
    const cases = commands.flatMap(([label, build]) => badNames.map((name) => ({ label, name, args: build(name) })));
    const results = await inBatches(cases, 8, async (entry) => ({ ...entry, result: await cli(entry.args) }));
    for (const { label, name, args, result } of results) {
      const what = `${label} ${JSON.stringify(name.slice(0, 20))}: sympozium ${args.join(' ')}\n${result.stderr}`;
      expect(result.code, what).toBe(2);
      expect(result.stderr, what).toMatch(/is not valid/);
      expect(result.stdout, what).toBe('');
    }
    expect(await snapshot()).toEqual(before);
  }, 120_000);

  it('refuses an empty or malformed -n instead of reading it as every namespace', async () => {
    const before = await snapshot();
    for (const namespace of ['', '.', 'Team', 'a/b', 'x'.repeat(64)]) {
      for (const args of [['instances', 'delete', 'demo', '--no-wait'], ['instances', 'list'], ['runs', 'list']]) {
        const result = await cli(['-n', namespace, ...args]);
        expect(result.code, `-n ${JSON.stringify(namespace)} ${args.join(' ')}: ${result.stderr}`).toBe(2);
        expect(result.stderr).toMatch(/namespace ".*" is not valid/);
      }
    }
    expect(await snapshot()).toEqual(before);
  }, 60_000);

  it("refuses a kubeconfig context whose namespace is not a namespace name, saying which context", async () => {
    const broken = join(dir, 'broken-namespace.kubeconfig');
    writeFileSync(broken, plane.kubeconfigYaml({ namespace: 'Team_A' }), { mode: 0o600 });
    expect(readFileSync(broken, 'utf8')).toContain('Team_A');
    const before = await snapshot();
    const result = await cli(['instances', 'delete', 'demo', '--no-wait'], { env: { KUBECONFIG: broken } });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/namespace "Team_A" \(set by kubeconfig context ".+"\) is not valid/);
    expect(result.stderr).toContain('kubectl config set-context');
    expect(await snapshot()).toEqual(before);
  });
});

describe('deleting many instances is explicit and confirmed', () => {
  const count = async (namespace: string) => (await kube.list(`/apis/sympozium.ai/v1alpha1/namespaces/${namespace}/sympoziuminstances`)).items.length;

  it('refuses a delete with no name, or names mixed with --all', async () => {
    for (const args of [['instances', 'delete'], ['instances', 'delete', 'demo', '--all'], ['instances', 'delete', '--all', '-l', 'app=x']]) {
      const result = await cli(args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
    }
    expect(await count('default')).toBe(2);
  });

  it('--all without a terminal needs --yes; with it, only that namespace is emptied', async () => {
    const refused = await cli(['instances', 'delete', '--all', '-n', 'team-b']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refusing to delete 1 instance in namespace team-b: far');
    expect(refused.stderr).toContain('--yes');
    expect(await count('team-b')).toBe(1);

    const confirmed = await cli(['instances', 'delete', '--all', '-n', 'team-b', '--yes', '--no-wait']);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(confirmed.stdout).toContain('sympoziuminstance/far deletion requested');
    expect(await count('default')).toBe(2);
  });

  it('a selector deletes only what it matches, and matching nothing deletes nothing', async () => {
    const none = await cli(['instances', 'delete', '-l', 'app=nothing', '--yes']);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stderr).toContain('nothing deleted');
    const some = await cli(['instances', 'delete', '-l', 'app=x', '--yes', '--no-wait']);
    expect(some.code, some.stderr).toBe(0);
    expect(some.stdout).toContain('sympoziuminstance/demo deletion requested');
    expect(some.stdout).not.toContain('other');
    const names = (await kube.list('/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances')).items
      .filter((item) => !item.metadata.deletionTimestamp)
      .map((item) => item.metadata.name);
    expect(names).toEqual(['other']);
  });
});

describe('files are written only as regular files', () => {
  const init = (out: string, ...more: string[]) => cli(['init', 'demo', '--yes', '--out', out, ...more], { env: { OPENAI_API_KEY: 'sk-test-1234567890abcd' } });
  let files: string;
  beforeAll(() => {
    files = join(dir, 'targets');
    mkdirSync(files);
  });

  const expectRefused = (result: RunResult, what: RegExp) => {
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(what);
    expect(result.stderr).not.toContain('sk-test');
  };

  it('refuses a FIFO, with --force or without, and leaves it a FIFO', async () => {
    const fifo = join(files, 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    for (const force of [[], ['--force']]) expectRefused(await init(fifo, ...force), /it is a FIFO \(named pipe\), not a regular file/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('refuses a socket and a directory', async () => {
    const socketPath = join(files, 'sock');
    const server = net.createServer().listen(socketPath);
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      for (const force of [[], ['--force']]) expectRefused(await init(socketPath, ...force), /it is a socket/);
      expect(lstatSync(socketPath).isSocket()).toBe(true);
    } finally {
      server.close();
    }
    const directory = join(files, 'a-directory');
    mkdirSync(directory);
    for (const force of [[], ['--force']]) expectRefused(await init(directory, ...force), /it is a directory/);
    expect(statSync(directory).isDirectory()).toBe(true);
  });

  it('refuses a symlink to a FIFO, and writes through a symlink to a regular file, keeping the link and the mode', async () => {
    const fifo = join(files, 'pipe-behind-link');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const toFifo = join(files, 'link-to-pipe.yaml');
    symlinkSync(fifo, toFifo);
    expectRefused(await init(toFifo, '--force'), /link-to-pipe\.yaml \(a link to .*pipe-behind-link\): it is a FIFO/);

    const real = join(files, 'real.yaml');
    writeFileSync(real, 'old\n');
    chmodSync(real, 0o640);
    const link = join(files, 'link.yaml');
    symlinkSync('real.yaml', link);
    const noForce = await cli(['init', 'demo', '--yes', '--out', link]);
    expect(noForce.code).toBe(2);
    expect(noForce.stderr).toContain('already exists');
    expect(readFileSync(real, 'utf8')).toBe('old\n');

    const forced = await cli(['init', 'demo', '--yes', '--out', link, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toContain('kind: SympoziumInstance');
    expect(statSync(real).mode & 0o777).toBe(0o640);

    // With the key in it, an existing file keeps only its owner's bits.
    const keyed = await init(link, '--force', '--api-key-env', 'OPENAI_API_KEY');
    expect(keyed.code, keyed.stderr).toBe(0);
    expect(readFileSync(real, 'utf8')).toContain('sk-test-1234567890abcd');
    expect(statSync(real).mode & 0o777).toBe(0o600);
  });

  it('creates the target of a dangling symlink, and new files with exact modes whatever the umask', async () => {
    const dangling = join(files, 'dangling.yaml');
    symlinkSync('created-through-link.yaml', dangling);
    const result = await cli(['init', 'demo', '--yes', '--out', dangling]);
    expect(result.code, result.stderr).toBe(0);
    expect(lstatSync(dangling).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(files, 'created-through-link.yaml'), 'utf8')).toContain('kind: SympoziumInstance');

    const keyed = await init(join(files, 'keyed.yaml'), '--api-key-env', 'OPENAI_API_KEY');
    expect(keyed.code, keyed.stderr).toBe(0);
    expect(statSync(join(files, 'keyed.yaml')).mode & 0o777).toBe(0o600);
  });

  it('dev up --merge-kubeconfig refuses a kubeconfig that is a FIFO before starting anything, and writes through a symlinked one', async () => {
    const stateDir = join(dir, 'dev-state');
    const fifo = join(files, 'kubeconfig-pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const devEnv = { SYMPOZIUM_DEV_TIMINGS: 'fast' };
    const refused = await cli(['dev', 'up', '--merge-kubeconfig', '--kubeconfig', fifo, '--state-dir', stateDir], { env: devEnv });
    expectRefused(refused, /kubeconfig-pipe: it is a FIFO/);
    expect(existsSync(join(stateDir, 'server.json'))).toBe(false);

    const realConfig = join(files, 'real-kubeconfig');
    writeFileSync(realConfig, '# kept\napiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n', { mode: 0o600 });
    const linked = join(files, 'linked-kubeconfig');
    symlinkSync(realConfig, linked);
    try {
      const up = await cli(['dev', 'up', '--merge-kubeconfig', '--kubeconfig', linked, '--state-dir', stateDir], { env: devEnv });
      expect(up.code, up.stderr).toBe(0);
      expect(lstatSync(linked).isSymbolicLink()).toBe(true);
      expect(readFileSync(realConfig, 'utf8')).toMatch(/# kept[\s\S]*name: sympozium-dev/);
      expect(statSync(join(stateDir, 'dev.log')).mode & 0o777).toBe(0o600);
    } finally {
      const down = await cli(['dev', 'down', '--kubeconfig', linked, '--state-dir', stateDir], { env: devEnv });
      expect(down.code, down.stderr).toBe(0);
    }
    expect(lstatSync(linked).isSymbolicLink()).toBe(true);
    expect(readFileSync(realConfig, 'utf8')).not.toContain('sympozium-dev');
  }, 60_000);
});
