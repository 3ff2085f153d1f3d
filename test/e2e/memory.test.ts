import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, ensureBuilt } from '../support/bin.js';

/**
 * validate's memory follows the largest file, not the sum: 40 MB of manifests in 40 files. Parsed YAML costs
 * about 50 times its size, so holding them all needed gigabytes (150 MB died out of memory at 4.3 GB).
 * The peak RSS is read by a preload that reports process.resourceUsage().maxRSS as the process exits.
 */

let dir: string;

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sympozium-memory-'));
  const doc = (index: number) =>
    `apiVersion: sympozium.ai/v1alpha1\nkind: SympoziumInstance\nmetadata:\n  name: inst-${index}\n  labels: {team: search}\nspec:\n  agents:\n    default:\n      model: gpt-4.1\n  memory:\n    enabled: true\n    systemPrompt: "${'You are a careful agent. '.repeat(40)}"\n---\n`;
  let text = '';
  for (let index = 0; text.length < 1024 * 1024; index++) text += doc(index);
  for (let file = 0; file < 40; file++) writeFileSync(join(dir, `m${file}.yaml`), text);
  writeFileSync(join(dir, 'peak.cjs'), "process.on('exit', () => require('fs').writeSync(2, `\\npeak-rss-kb ${process.resourceUsage().maxRSS}\\n`));\n");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bounded memory', () => {
  it('validate of 40 MB in 40 files stays far below what holding them all would take', () => {
    const result = spawnSync(process.execPath, ['-r', join(dir, 'peak.cjs'), binPath, 'validate', '-f', dir], { encoding: 'utf8', env: { ...process.env, CI: '1', NO_COLOR: '1' }, timeout: 120_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/documents in 40 files valid/);
    const peakKb = Number(/peak-rss-kb (\d+)/.exec(result.stderr)?.[1]);
    // One such file parses to about 60 MB; all forty at once would be over 2 GB.
    expect(peakKb).toBeGreaterThan(0);
    expect(peakKb / 1024).toBeLessThan(400);
  }, 150_000);
});
