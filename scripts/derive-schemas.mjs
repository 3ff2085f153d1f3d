#!/usr/bin/env node
// Derives the bundled schema data from upstream's own CRDs, so the validator and the local control plane judge
// by what real clusters serve rather than by hand-written copies. Reads ../shared/upstream/<release>/config/crd/bases
// (relative to the repository root) and writes src/sympozium/upstream-schemas/<release>.json. The package never
// reads ../shared at run time; a test re-derives in memory and fails when the committed files are stale.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

export const releases = ['v0.5.8', 'v0.10.46'];
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const upstreamDir = path.resolve(root, '../shared/upstream');
export const outputDir = path.join(root, 'src/sympozium/upstream-schemas');

/** One release's data: per kind its names and scope, and the whole CRD (which carries each version's schema). */
export function deriveRelease(release, dir = upstreamDir) {
  const bases = path.join(dir, release, 'config/crd/bases');
  const kinds = {};
  for (const file of readdirSync(bases).filter((name) => name.endsWith('.yaml')).sort()) {
    for (const crd of yaml.loadAll(readFileSync(path.join(bases, file), 'utf8'))) {
      if (!crd || crd.kind !== 'CustomResourceDefinition') continue;
      const { group, names, scope, versions } = crd.spec;
      kinds[names.kind] = {
        group,
        kind: names.kind,
        listKind: names.listKind,
        plural: names.plural,
        singular: names.singular,
        shortNames: names.shortNames ?? [],
        scope,
        versions: versions.map((entry) => ({ name: entry.name, served: entry.served, storage: entry.storage })),
        crd,
      };
    }
  }
  return { release, source: `sympozium-ai/sympozium ${release} config/crd/bases`, kinds };
}

export function serialize(data) {
  return `${JSON.stringify(data)}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const release of releases) {
    const file = path.join(outputDir, `${release}.json`);
    writeFileSync(file, serialize(deriveRelease(release)));
    console.log(`wrote ${path.relative(root, file)}`);
  }
}
