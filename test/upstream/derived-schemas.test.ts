import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { deriveRelease, outputDir, releases, serialize } from '../../scripts/derive-schemas.mjs';

describe('derived upstream schemas', () => {
  for (const release of releases as string[]) {
    it(`${release}.ts is what scripts/derive-schemas.mjs derives from upstream's CRDs (run npm run derive-schemas)`, () => {
      const committed = readFileSync(path.join(outputDir as string, `${release}.ts`), 'utf8');
      expect(committed === serialize(deriveRelease(release))).toBe(true);
    });
  }
});
