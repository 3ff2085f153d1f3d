import { describe, expect, it } from 'vitest';
import { processCustomResource } from '@sympozium/kube-emulator';
import { readManifests, type ManifestDocument } from '../../src/sympozium/manifests.js';
import { releaseNames, releaseOf, upstreamKind, upstreamSchema, type Release } from '../../src/sympozium/releases.js';
import { validateDocuments } from '../../src/sympozium/validate.js';

/**
 * Every Sympozium document upstream ships (both releases), judged by the validator and, independently, by the
 * emulator's custom-resource schema processing with strict field validation against the same release's CRD.
 * metadata is left out of the comparison (see below). A first step: the emulator is in-process here, not yet `kubectl apply --dry-run=server --validate=strict`.
 */
const folders = ['config/samples', 'config/skills', 'config/policies', 'examples', 'docs-manifests'];

function emulatorAccepts(document: ManifestDocument, release: Release): boolean | undefined {
  const { apiVersion, kind } = document.object as { apiVersion?: string; kind?: string };
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined;
  const entry = upstreamKind(release, apiVersion, kind);
  const schema = entry && upstreamSchema(release, entry, apiVersion);
  if (!schema) return undefined;
  const outcome = processCustomResource(structuredClone(document.object), schema);
  return outcome.unknownFields.length === 0 && outcome.errors.length === 0;
}

describe("upstream's own manifests", () => {
  it('get the same verdict from the validator and from the emulator, per release', async () => {
    const paths = releaseNames.flatMap((release) => folders.map((folder) => `../shared/upstream/${release}/${folder}`));
    const read = await readManifests(paths, { cwd: process.cwd(), stdin: process.stdin });
    const disagreements: string[] = [];
    let compared = 0;
    for (const document of read.documents) {
      const release = releaseOf(document.object) ?? (document.source.includes('/v0.10.46/') ? 'v0.10.46' : 'v0.5.8');
      const emulator = emulatorAccepts(document, release);
      if (emulator === undefined) continue;
      const problems = validateDocuments([document], { release });
      // processCustomResource leaves metadata to the server's ObjectMeta checks, so compare everything else;
      // upstream's docs use shell placeholders such as ${INSTANCE_NAME} as names, which a real server refuses.
      const ours = !problems.some((problem) => problem.severity === 'error' && !problem.path.startsWith('metadata'));
      compared++;
      if (ours !== emulator) disagreements.push(`${document.source}#${document.index} (${release}): validator ${ours}, emulator ${emulator}`);
    }
    console.log(`compared ${compared} documents, ${disagreements.length} disagreements`);
    expect(compared).toBeGreaterThan(50);
    expect(disagreements).toEqual([]);
  });
});
