import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifests, type ManifestDocument } from '../../src/sympozium/manifests.js';
import { releaseData, releaseNames, upstreamKind, upstreamSchema, type Release } from '../../src/sympozium/releases.js';
import { validateDocuments } from '../../src/sympozium/validate.js';
import { kubectlPath, startUpstreamCluster, type UpstreamCluster } from '../support/upstream-cluster.js';
import { build, mutationsOf, sample, seeded, synthesizedDocument, type Mutation } from './mutations.js';

/**
 * Single-field mutations of upstream's own samples (config/samples, config/skills, config/policies of both
 * releases, and a minimal document of each kind they have no sample of), derived from the CRD schemas, each judged by the validator and by the API server: the emulator
 * with that release's CRDs installed as upstream ships them, asked for a dry-run create with strict field
 * validation over HTTP, and for a sample of them through real `kubectl apply --dry-run=server --validate=strict`.
 */

const folders = ['config/samples', 'config/skills', 'config/policies'];
/** Mutations per category and release; status matters less (create drops it), so fewer there. */
const perCategory = (category: string) => (category.startsWith('status.') ? 2 : 5);
const seed = 20260325;

/**
 * Where the emulator does not do what kube-apiserver does. Each is a disagreement in which the validator follows
 * the Kubernetes rule (the mutation's prediction) and the emulator does not; any other disagreement fails. None
 * are known now: ObjectMeta is decoded and validated, list types, date-time and rune lengths are enforced, and
 * unknown status fields are found before create drops status.
 */
const expectedEmulatorBugs: Record<string, string> = {};

function document(object: Record<string, unknown>, source: string): ManifestDocument {
  return { source, index: 0, line: 1, column: 1, object };
}

function validatorAccepts(object: Record<string, unknown>, release: Release): boolean {
  return !validateDocuments([document(object, 'mutation')], { release }).some((problem) => problem.severity === 'error');
}

interface Judged {
  release: Release;
  mutation: Mutation;
  object: Record<string, unknown>;
  source: string;
  ours: boolean;
  server: boolean;
  message: string;
}

if (!kubectlPath) console.log('kubectl is not on PATH: the kubectl apply --dry-run=server comparison is skipped (the HTTP dry run still runs)');

const clusters = new Map<Release, UpstreamCluster>();
const judged: Judged[] = [];
const timings: string[] = [];
let started = Date.now();
const lap = (what: string) => {
  timings.push(`${what} ${Date.now() - started} ms`);
  started = Date.now();
};

describe('single-field mutations of upstream samples', () => {
  beforeAll(async () => {
    started = Date.now();
    for (const release of releaseNames) clusters.set(release, await startUpstreamCluster(release));
    lap('clusters');
    const random = seeded(seed);
    for (const release of releaseNames) {
      const cluster = clusters.get(release)!;
      const read = await readManifests(
        folders.map((folder) => `../shared/upstream/${release}/${folder}`),
        { cwd: process.cwd(), stdin: process.stdin },
      );
      type Candidate = Mutation & { source: string; original: Record<string, unknown> };
      const candidates: Candidate[] = [];
      const documents = read.documents.map(({ object, source }) => ({ object, source }));
      const sampled = new Set(documents.map(({ object }) => object.kind));
      for (const entry of Object.values(releaseData(release).kinds)) {
        if (sampled.has(entry.kind)) continue;
        const version = entry.versions.find((served) => served.storage)!.name;
        const apiVersion = `${entry.group}/${version}`;
        const object = synthesizedDocument(apiVersion, entry.kind, upstreamSchema(release, entry, apiVersion)!);
        if (object) documents.push({ object, source: `synthesized ${entry.kind}` });
      }
      const baseline = await Promise.all(documents.map(({ object }) => cluster.dryRun(structuredClone(object))));
      documents.forEach(({ object, source }, index) => {
        const { apiVersion, kind } = object as { apiVersion?: string; kind?: string };
        const entry = typeof apiVersion === 'string' && typeof kind === 'string' ? upstreamKind(release, apiVersion, kind) : undefined;
        const schema = entry && upstreamSchema(release, entry, apiVersion!);
        // Only samples both judges accept as they are: then the one change decides the verdict.
        if (!schema || !baseline[index]!.ok || !validatorAccepts(object, release)) return;
        for (const mutation of mutationsOf(object, schema)) candidates.push({ ...mutation, source, original: object });
      });
      lap(`${release} ${candidates.length} candidates`);
      const chosen = sample(candidates, perCategory, random) as Candidate[];
      const objects = chosen.map((mutation, index) => {
        const object = build(mutation.original, mutation.edits);
        // Distinct names, so that kubectl's per-object answers can be told apart.
        const meta = object.metadata as Record<string, unknown>;
        if (!mutation.category.startsWith('metadata.name') && typeof meta.name === 'string') meta.name = `${meta.name}-m${index}`;
        return object;
      });
      const verdicts = await Promise.all(objects.map((object) => cluster.dryRun(structuredClone(object))));
      lap(`${release} server`);
      chosen.forEach((mutation, index) => {
        judged.push({
          release,
          mutation,
          object: objects[index]!,
          source: mutation.source,
          ours: validatorAccepts(objects[index]!, release),
          server: verdicts[index]!.ok,
          message: verdicts[index]!.message,
        });
      });
      lap(`${release} validator`);
    }
  }, 60_000);

  afterAll(async () => {
    for (const cluster of clusters.values()) await cluster.stop();
  });

  it('are a few hundred, over every kind of constraint', () => {
    const categories = new Set(judged.map((entry) => entry.mutation.category));
    console.log(`timings: ${timings.join(', ')}`);
    console.log(`${judged.length} mutations in ${categories.size} categories: ${[...categories].sort().join(', ')}`);
    expect(judged.length).toBeGreaterThan(200);
    const expected = ['required', 'required.null', 'unknown', 'unknown.preserved', 'type.string', 'type.integer', 'type.object', 'enum', 'pattern', 'minLength', 'maxLength', 'minimum', 'minItems', 'listType.map', 'null', 'items.null', 'intOrString.integer', 'intOrString.string'];
    for (const category of [...expected, 'metadata.name', 'metadata.labels.key', 'metadata.annotations.key', 'metadata.generateName', 'metadata.namespace']) {
      expect(categories).toContain(category);
    }
  });

  it('get the same verdict from the validator and from the API server (emulator, upstream CRDs, strict dry run)', () => {
    const disagreements: string[] = [];
    const known: { category: string; line: string }[] = [];
    for (const entry of judged) {
      if (entry.ours === entry.server) continue;
      const line = `${entry.release} ${entry.source.replace(/^.*upstream\//, '')} ${entry.mutation.category} ${entry.mutation.path} (${entry.mutation.description}): validator ${entry.ours}, server ${entry.server} ${entry.message}`;
      const bug = expectedEmulatorBugs[entry.mutation.category];
      if (bug && entry.mutation.rule === entry.ours) known.push({ category: entry.mutation.category, line: `${line} [emulator bug: ${bug}]` });
      else disagreements.push(line);
    }
    if (known.length) {
      const counts = new Map<string, number>();
      for (const { category } of known) counts.set(category, (counts.get(category) ?? 0) + 1);
      console.log(`known emulator bugs: ${[...counts].map(([category, count]) => `${category} ${count}`).join(', ')}; first: ${known[0]!.line}`);
    }
    expect(disagreements).toEqual([]);
  });

  it('where the Kubernetes rule is clear-cut, the validator follows it', () => {
    const wrong = judged
      .filter((entry) => entry.mutation.rule !== undefined && entry.mutation.rule !== entry.ours)
      .map((entry) => `${entry.release} ${entry.mutation.category} ${entry.mutation.path} (${entry.mutation.description}): validator ${entry.ours}, rule ${entry.mutation.rule}`);
    expect(wrong).toEqual([]);
  });

  it.skipIf(!kubectlPath)('kubectl apply --dry-run=server --validate=strict agrees with the HTTP dry run on a sample', async () => {
    const differences: string[] = [];
    // One kubectl per release, both at once: most of each call is kubectl's own start and discovery.
    await Promise.all(releaseNames.map(async (release) => {
      const seen = new Set<string>();
      const batch = judged.filter((entry) => {
        if (entry.release !== release) return false;
        const meta = entry.object.metadata as Record<string, unknown>;
        // kubectl itself refuses a document whose name is not a string, before sending anything.
        if (typeof meta.name !== 'string') return false;
        const key = `${String(entry.object.kind)}/${meta.name}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      }).filter((_, index) => index % 4 === 0);
      const { accepted, output } = await clusters.get(release)!.kubectlApply(batch.map((entry) => entry.object));
      for (const entry of batch) {
        const name = (entry.object.metadata as Record<string, unknown>).name as string;
        const kubectl = accepted.has(`${String(entry.object.kind).toLowerCase()}.sympozium.ai/${name}`);
        const bug = expectedEmulatorBugs[entry.mutation.category];
        // kubectl decodes metadata into ObjectMeta itself, so it refuses what the emulator wrongly stores.
        if (kubectl !== entry.server && !(bug && kubectl === entry.mutation.rule)) differences.push(`${release} ${entry.mutation.category} ${entry.mutation.path}: kubectl ${kubectl}, HTTP ${entry.server}`);
      }
      expect(batch.length, output).toBeGreaterThan(20);
    }));
    expect(differences).toEqual([]);
  }, 60_000);
});
