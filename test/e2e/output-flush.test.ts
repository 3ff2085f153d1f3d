import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, ensureBuilt, repoRoot } from '../support/bin.js';

/**
 * Nothing written is lost when the reader is slow (issue 17). A pipe holds 64 KiB; the rest waits in the
 * process, and exiting before it drains dropped it: `validate … | (sleep 1; wc -c)` got 65 KB of 160 KB, and
 * migrate's 1.2 MB of problems on stderr arrived as 64 KB. Each command runs once into a file (the whole
 * output) and once into a shell pipe whose reader sleeps before reading; both must hold the same bytes.
 */

let dir: string;

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sympozium-flush-'));
  const instance = (i: number) =>
    `apiVersion: sympozium.ai/v1alpha1\nkind: SympoziumInstance\nmetadata:\n  name: agent-${i}\n  labels:\n    team: search-and-retrieval-${i}\nspec:\n  agents:\n    default:\n      model: gpt-4o\n`;
  writeFileSync(join(dir, 'valid.yaml'), Array.from({ length: 1500 }, (_, i) => instance(i)).join('---\n'));
  // ConfigMap data must be strings: 2,000 documents, one problem each, a long report.
  const configMap = (i: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  a: 1\n`;
  writeFileSync(join(dir, 'invalid.yaml'), Array.from({ length: 2000 }, (_, i) => configMap(i)).join('---\n'));
  // Fields v0.10 has no home for: migrate lists every one on stderr and exits 2.
  const unmigratable = (i: number) =>
    `apiVersion: sympozium.ai/v1alpha1\nkind: SympoziumInstance\nmetadata:\n  name: alice-${i}\nspec:\n  channels:\n    - type: slack\n      secretRef: alice-slack\n  agents:\n    default:\n      model: gpt-4o\n      image: example/agent:1\n`;
  writeFileSync(join(dir, 'unmigratable.yaml'), Array.from({ length: 1500 }, (_, i) => unmigratable(i)).join('---\n'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The stream's bytes and the exit code, read at once (`into: file`) or through a reader that sleeps first. */
function run(args: string[], stream: 'stdout' | 'stderr', reader: 'file' | 'slow pipe'): { bytes: Buffer; code: number } {
  const out = join(dir, 'out');
  const codeFile = join(dir, 'code');
  const quoted = [process.execPath, binPath, ...args].map((word) => `'${word}'`).join(' ');
  const redirect = stream === 'stdout' ? '2>/dev/null' : '2>&1 >/dev/null';
  const sink = reader === 'file' ? `cat > '${out}'` : `(sleep 1.5; cat > '${out}')`;
  const shell = spawnSync('sh', ['-c', `{ ${quoted} ${redirect}; echo $? > '${codeFile}'; } | ${sink}`], {
    cwd: repoRoot,
    env: { ...process.env, CI: '1', NO_COLOR: '1' },
    timeout: 60_000,
  });
  expect(shell.status, String(shell.stderr)).toBe(0);
  return { bytes: readFileSync(out), code: Number(readFileSync(codeFile, 'utf8')) };
}

describe('output reaches a slow reader whole', () => {
  const cases: { name: string; args: () => string[]; stream: 'stdout' | 'stderr'; code: number }[] = [
    { name: 'a successful command (migrate --out -, 250 KB)', args: () => ['migrate', '-f', join(dir, 'valid.yaml'), '--out', '-'], stream: 'stdout', code: 0 },
    { name: 'a failing command on stdout (validate, 100 KB of problems)', args: () => ['validate', '-f', join(dir, 'invalid.yaml')], stream: 'stdout', code: 2 },
    { name: 'a failing command on stderr (migrate, 1 MB of problems)', args: () => ['migrate', '-f', join(dir, 'unmigratable.yaml'), '--out', '-'], stream: 'stderr', code: 2 },
  ];
  for (const { name, args, stream, code } of cases) {
    it(name, () => {
      const whole = run(args(), stream, 'file');
      expect(whole.code).toBe(code);
      // More than a pipe holds, so the slow reader's run must wait for it to drain.
      expect(whole.bytes.length).toBeGreaterThan(96 * 1024);
      const slow = run(args(), stream, 'slow pipe');
      expect(slow.code).toBe(code);
      expect(slow.bytes.length).toBe(whole.bytes.length);
      expect(slow.bytes.equals(whole.bytes)).toBe(true);
    }, 60_000);
  }
});
