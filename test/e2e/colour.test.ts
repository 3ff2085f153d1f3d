// Colour through the built CLI: chalk's escapes when FORCE_COLOR asks for them, plain text otherwise (the test
// streams are pipes, as in a script), and NO_COLOR or --no-color win over FORCE_COLOR.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, ensureBuilt, spawnBin } from '../support/bin.js';

let dir: string;
let file: string;

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sympozium-colour-'));
  file = join(dir, 'secret.yaml');
  writeFileSync(file, 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: demo\nstringData:\n  key: value\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Exactly this environment: no FORCE_COLOR or NO_COLOR unless the test sets one.
const validate = (env: NodeJS.ProcessEnv, extra: string[] = []) => spawnBin(binPath, ['validate', '-f', file, ...extra], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir, ...env } });
const escape = '\x1b[';

describe('colour', () => {
  it('is on with FORCE_COLOR', async () => {
    const forced = await validate({ FORCE_COLOR: '1' });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain(`${escape}32m✔${escape}39m`);
  });

  it('is off on a pipe without FORCE_COLOR, and NO_COLOR and --no-color win over it', async () => {
    for (const run of [validate({}), validate({ FORCE_COLOR: '1', NO_COLOR: '1' }), validate({ FORCE_COLOR: '1' }, ['--no-color'])]) {
      const result = await run;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('✔');
      expect(result.stderr).not.toContain(escape);
    }
  });
});
