import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processCustomResource } from '@sympozium/kube-emulator';
import { readManifests, type ManifestDocument } from '../../src/sympozium/manifests.js';
import { releaseNames, releaseOf, upstreamKind, upstreamSchema, type Release } from '../../src/sympozium/releases.js';
import { validateDocuments } from '../../src/sympozium/validate.js';
import { startUpstreamCluster, type UpstreamCluster } from '../support/upstream-cluster.js';

/**
 * Every Sympozium document upstream ships (both releases), judged by the validator and, independently, by the
 * emulator's custom-resource schema processing with strict field validation against the same release's CRD.
 * metadata is left out of that comparison (see below). Then the whole of each document, metadata included, by the
 * API server: the emulator with the release's CRDs installed as upstream ships them, asked for a dry-run create
 * with strict field validation (what `kubectl apply --dry-run=server --validate=strict` sends; mutations.test.ts
 * checks the two agree).
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

/**
 * Documents the emulator accepts and kube-apiserver refuses. Empty: the emulator applies ValidateObjectMeta
 * (label values, ownerReferences with a uid), so every document is enforced.
 */
const expectedEmulatorBugs: Record<string, string> = {};

async function readCorpus(): Promise<ManifestDocument[]> {
  const paths = releaseNames.flatMap((release) => folders.map((folder) => `../shared/upstream/${release}/${folder}`));
  return (await readManifests(paths, { cwd: process.cwd(), stdin: process.stdin })).documents;
}

function releaseOfDocument(document: ManifestDocument): Release {
  return releaseOf(document.object) ?? (document.source.includes('/v0.10.46/') ? 'v0.10.46' : 'v0.5.8');
}

describe("upstream's own manifests", () => {
  const clusters = new Map<Release, UpstreamCluster>();
  beforeAll(async () => {
    for (const release of releaseNames) clusters.set(release, await startUpstreamCluster(release));
  });
  afterAll(async () => {
    for (const cluster of clusters.values()) await cluster.stop();
  });

  it('get the same verdict from the validator and from the API server (dry run, strict), metadata included', async () => {
    const documents = (await readCorpus()).filter((document) => {
      const { apiVersion, kind } = document.object as { apiVersion?: unknown; kind?: unknown };
      return typeof apiVersion === 'string' && typeof kind === 'string' && upstreamKind(releaseOfDocument(document), apiVersion, kind);
    });
    const verdicts = await Promise.all(
      documents.map((document) => clusters.get(releaseOfDocument(document))!.dryRun(structuredClone(document.object))),
    );
    const disagreements: string[] = [];
    let refused = 0;
    documents.forEach((document, index) => {
      const release = releaseOfDocument(document);
      const problems = validateDocuments([document], { release }).filter((problem) => problem.severity === 'error');
      const server = verdicts[index]!;
      if (!server.ok) refused++;
      const bug = expectedEmulatorBugs[document.source.replace(/^.*upstream\//, '')];
      if (bug && server.ok && problems.length > 0) console.log(`known emulator bug: ${document.source}: ${bug}`);
      else if (problems.length === 0 !== server.ok) {
        const ours = problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ') || 'valid';
        disagreements.push(`${document.source}#${document.index} (${release}): validator ${ours}; server ${server.ok ? 'accepts' : server.message}`);
      }
    });
    console.log(`server dry run: ${documents.length} documents (${refused} refused), ${disagreements.length} disagreements`);
    expect(documents.length).toBeGreaterThan(100);
    expect(disagreements).toEqual([]);
  });

  it('get the same verdict from the validator and from the emulator, per release', async () => {
    const read = { documents: await readCorpus() };
    const disagreements: string[] = [];
    let compared = 0;
    for (const document of read.documents) {
      const release = releaseOfDocument(document);
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
