import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { derivedFiles, outputDir } from '../../scripts/derive-schemas.mjs';

function committedFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? committedFiles(path.join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

describe('derived upstream schemas', () => {
  const derived = derivedFiles() as Map<string, string>;
  it('src/sympozium/upstream-schemas holds exactly the files scripts/derive-schemas.mjs writes (run npm run derive-schemas)', () => {
    expect(committedFiles(outputDir as string).sort()).toEqual([...derived.keys()].sort());
  });
  for (const [name, content] of derived) {
    it(`${name} is what upstream's files derive to`, () => {
      expect(readFileSync(path.join(outputDir as string, name), 'utf8') === content).toBe(true);
    });
  }
});
