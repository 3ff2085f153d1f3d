import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { startLocalControlPlane, type LocalControlPlane } from '../../src/dev/index.js';
import { ensureBuilt, runBin } from '../support/bin.js';

/**
 * Fuzzed flags for every command, through the built bin against the local control plane: whatever the
 * values, each command ends by itself with 0, 1 or 2, never "unexpected failure … a bug" or a stack trace,
 * and a bad value changes nothing on the cluster. A fixed seed keeps a failure reproducible: the message
 * names the command line.
 */

let plane: LocalControlPlane;
let dir: string;
let kubeconfig: string;
let kube: KubeClient;

const hostile = ['', ' ', '-1', '0', '1.5', 'NaN', '1e309', '99999999999999999999', '-', '--', '--help', '🙂', 'ümlaut', '../../etc/passwd', 'a'.repeat(300), 'x=y', 'a,b', '$(id)', '"quoted"', 'Default', 'other', '5m', '10x', 'json', 'jsonpath={.x}'];

/** Each command with the flags it takes; `{}` is where a fuzzed value goes. Long-running follows are left out. */
const commands: string[][] = [
  ['init', '{}', '--yes', '--out', '-'],
  ['init', 'demo', '--yes', '--out', '-', '--provider', '{}'],
  ['init', 'demo', '--yes', '--out', '-', '--model', '{}'],
  ['init', 'demo', '--yes', '--out', '-', '--base-url', '{}'],
  ['init', 'demo', '--yes', '--out', '-', '--thinking', '{}'],
  ['init', 'demo', '--yes', '--out', '-', '--skill', '{}'],
  ['init', 'demo', '--yes', '--out', '-', '--policy', '{}'],
  ['init', 'demo', '--yes', '--out', '-', '--channel', '{}'],
  ['init', 'demo', '--yes', '--out', '-', '--web-endpoint', '--rpm', '{}'],
  ['init', 'demo', '--yes', '--out', '-', '--web-endpoint', '--hostname', '{}'],
  ['init', 'demo', '--yes', '--out', '-', '--api-key-env', '{}'],
  ['validate', '-f', '{}'],
  ['apply', '-f', '{}', '--dry-run=server'],
  ['apply', '-f', 'demo.yaml', '--timeout', '{}', '--dry-run', 'server'],
  ['migrate', '-f', '{}'],
  ['migrate', '-f', 'demo.yaml', '--out', '{}'],
  ['migrate', '--from-cluster', '--out', '{}'],
  ['instances', 'list', '-l', '{}'],
  ['instances', 'list', '-o', '{}'],
  ['instances', 'get', '{}'],
  ['instances', 'describe', '{}'],
  ['instances', 'delete', '{}', '--no-wait'],
  ['instances', 'delete', '-l', '{}'],
  ['enable', 'web-endpoint', 'demo', '--rpm', '{}', '--no-wait'],
  ['enable', 'web-endpoint', 'demo', '--timeout', '{}', '--no-wait'],
  ['disable', 'web-endpoint', '{}', '--no-wait'],
  ['key', 'show', '{}'],
  ['key', 'rotate', 'demo', '--timeout', '{}'],
  ['runs', 'list', '--phase', '{}'],
  ['runs', 'list', '--limit', '{}'],
  ['runs', 'list', '--source', '{}'],
  ['runs', 'get', '{}'],
  ['runs', 'tail', '--since', '{}', '--run', 'missing-run', '--until-done', '--help'],
  ['chat', 'demo', '{}', '--url', 'http://127.0.0.1:9', '--key', 'k'],
  ['chat', 'demo', 'hi', '--timeout', '{}', '--url', 'http://127.0.0.1:9', '--key', 'k'],
  ['chat', 'demo', 'hi', '--history', '{}', '--url', 'http://127.0.0.1:9', '--key', 'k'],
  ['chat', 'demo', 'hi', '--url', '{}', '--key', 'k'],
  ['models', 'demo', '--url', '{}', '--key', 'k'],
  ['mcp', 'demo', '{}', '--url', 'http://127.0.0.1:9', '--key', 'k'],
  ['mcp', 'demo', 'call', 'ask', '--arg', '{}', '--url', 'http://127.0.0.1:9', '--key', 'k'],
  ['doctor', '-o', '{}'],
  ['completion', '{}'],
  ['--request-timeout', '{}', 'instances', 'list'],
  ['-n', '{}', 'runs', 'list'],
  ['--context', '{}', 'instances', 'list'],
  ['{}'],
];

/** A small deterministic PRNG (mulberry32), so every run tries the same command lines. */
function random(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sympozium-fuzz-flags-'));
  plane = await startLocalControlPlane();
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, plane.kubeconfigYaml(), { mode: 0o600 });
  kube = createKubeClient({ globals: { kubeconfig }, env: {} });
  writeFileSync(join(dir, 'demo.yaml'), 'apiVersion: sympozium.ai/v1alpha1\nkind: SympoziumInstance\nmetadata:\n  name: demo\nspec:\n  agents:\n    default:\n      model: gpt-4.1\n');
  const applied = await runBin(['apply', '-f', 'demo.yaml'], { cwd: dir, env: { KUBECONFIG: kubeconfig, HOME: dir } });
  expect(applied.code, applied.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  kube?.close();
  await plane?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fuzzed flags', () => {
  it('every command ends with 0, 1 or 2 and never reports a bug, and the instance survives', async () => {
    const next = random(17);
    // Every value once for every command would be 1,000 runs; a seeded sample of 240 covers each command.
    const lines = Array.from({ length: 240 }, (_, index) => {
      const template = commands[index % commands.length]!;
      const value = hostile[Math.floor(next() * hostile.length)]!;
      return template.map((part) => (part === '{}' ? value : part));
    });
    const env = { KUBECONFIG: kubeconfig, HOME: dir, SYMPOZIUM_API_KEY: '', OPENAI_API_KEY: '' };
    const failures: string[] = [];
    for (let start = 0; start < lines.length; start += 8) {
      const batch = lines.slice(start, start + 8);
      const results = await Promise.all(batch.map((args) => runBin(args, { cwd: dir, env, timeoutMs: 30_000 }).then((result) => ({ args, result }))));
      for (const { args, result } of results) {
        const text = result.stdout + result.stderr;
        if (![0, 1, 2].includes(result.code ?? -1) || /unexpected failure|This is a bug|\n\s+at .+:\d+:\d+\)?\n/.test(text)) {
          failures.push(`sympozium ${args.map((arg) => JSON.stringify(arg)).join(' ')} -> ${result.code}\n${result.stderr.slice(0, 400)}`);
        }
      }
    }
    expect(failures, failures.join('\n\n')).toEqual([]);
    expect((await kube.list('/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances')).items.map((item) => item.metadata.name)).toEqual(['demo']);
  }, 240_000);
});
