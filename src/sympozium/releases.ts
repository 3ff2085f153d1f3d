import { existsSync, readFileSync } from 'node:fs';
import type { Schema } from './schema-builders.js';
import { releaseIndex } from './upstream-schemas/index.js';

/**
 * The Sympozium releases whose CRDs are bundled (derived by scripts/derive-schemas.mjs from upstream's own
 * CRDs), and which release a document belongs to. v0.5.8 is the release the CLI and the local control plane
 * target by default; v0.10.46 renamed SympoziumInstance to Agent and added Ensemble, Model and more.
 */

export const releaseNames = ['v0.5.8', 'v0.10.46'] as const;
export type Release = (typeof releaseNames)[number];
export const defaultRelease: Release = 'v0.5.8';

export interface UpstreamKind {
  group: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  scope: 'Namespaced' | 'Cluster';
  versions: readonly { name: string; served: boolean; storage: boolean }[];
}

export interface ReleaseData {
  release: Release;
  source: string;
  kinds: Record<string, UpstreamKind>;
}

/** A CustomResourceDefinition exactly as upstream ships it. */
type UpstreamCrd = { spec: { versions: { name: string; schema?: { openAPIV3Schema?: Schema } }[] } } & Record<string, unknown>;

const index = releaseIndex as unknown as Record<Release, ReleaseData>;

/**
 * The CRDs themselves (1.4 MB for both releases) are JSON files beside the code, read only when a document of
 * that kind is judged: a module holding them cost every validate run 10-20 ms of compiling even when one small
 * v0.5.8 SkillPack needed 11 KB of it (`npm run bench`, validate rows). The sources keep them in
 * src/sympozium/upstream-schemas/; the build copies them to dist/upstream-schemas/, next to the entry points
 * and one level above the chunks.
 */
let dataDirectory: URL | undefined;
function dataFile(relative: string): URL {
  dataDirectory ??= findDataDirectory();
  return new URL(relative, dataDirectory);
}

/**
 * Beside this module (sources, entry points), one level up (chunks), else under the package root found by
 * walking up (a bundle elsewhere, as the benchmarks make one): dist/upstream-schemas or the sources' copy.
 */
function findDataDirectory(): URL {
  const nearby = ['./upstream-schemas/', '../upstream-schemas/'].map((candidate) => new URL(candidate, import.meta.url));
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    for (const candidate of [...nearby.splice(0), new URL('dist/upstream-schemas/', dir), new URL('src/sympozium/upstream-schemas/', dir)]) {
      if (existsSync(new URL('v0.5.8/', candidate))) return candidate;
    }
    if (new URL('../', dir).href === dir.href) break;
  }
  throw new Error(`the bundled upstream CRDs are missing beside ${import.meta.url}; reinstall sympozium`);
}

const crdCache = new Map<string, UpstreamCrd>();
function readCrd(release: Release, plural: string): UpstreamCrd {
  const key = `${release}/${plural}`;
  let crd = crdCache.get(key);
  if (!crd) {
    crd = JSON.parse(readFileSync(dataFile(`${release}/crds/${plural}.json`), 'utf8')) as UpstreamCrd;
    crdCache.set(key, crd);
  }
  return crd;
}

export function isRelease(value: string): value is Release {
  return (releaseNames as readonly string[]).includes(value);
}

export function releaseData(release: Release): ReleaseData {
  return index[release];
}

/** The kind's definition in a release, when that release serves it under this apiVersion. */
export function upstreamKind(release: Release, apiVersion: string, kind: string): UpstreamKind | undefined {
  const entry = index[release].kinds[kind];
  if (!entry) return undefined;
  const [apiGroup, version] = apiVersion.split('/');
  if (apiGroup !== entry.group || !entry.versions.some((served) => served.name === version && served.served)) return undefined;
  return entry;
}

/** The openAPIV3Schema a release's CRD gives for one served version. */
export function upstreamSchema(release: Release, entry: UpstreamKind, apiVersion: string): Schema | undefined {
  const version = apiVersion.split('/')[1];
  return readCrd(release, entry.plural).spec.versions.find((served) => served.name === version)?.schema?.openAPIV3Schema;
}

/** Whether the kind serves status as a subresource in this version: then create and apply drop what a manifest sets. */
export function upstreamHasStatusSubresource(release: Release, entry: UpstreamKind, apiVersion: string): boolean {
  const version = apiVersion.split('/')[1];
  const served = readCrd(release, entry.plural).spec.versions.find((candidate) => candidate.name === version) as
    | { subresources?: { status?: unknown } }
    | undefined;
  return served?.subresources?.status !== undefined;
}

/** The CRDs of a release, as upstream ships them (fresh copies: callers may change them). */
export function upstreamCrds(release: Release): Record<string, unknown>[] {
  return Object.values(index[release].kinds).map((entry) => structuredClone(readCrd(release, entry.plural)));
}

/** A release's built-in SkillPacks and policy presets (config/skills, config/policies), as upstream ships them. */
export function upstreamBuiltins(release: Release): { skillPacks: Record<string, unknown>[]; policies: Record<string, unknown>[] } {
  const read = (name: string) => JSON.parse(readFileSync(dataFile(`${release}/${name}.json`), 'utf8')) as Record<string, unknown>[];
  return { skillPacks: read('skillpacks'), policies: read('policies') };
}

/** The release a document names by its own shape, if any: its kind, or an AgentRun's reference field. */
export function releaseOf(object: Record<string, unknown>): Release | undefined {
  const kind = object.kind;
  if (kind === 'Agent' || kind === 'Ensemble' || kind === 'Model') return 'v0.10.46';
  if (kind === 'SympoziumInstance' || kind === 'PersonaPack') return 'v0.5.8';
  if (kind === 'AgentRun' && object.spec && typeof object.spec === 'object') {
    const spec = object.spec as Record<string, unknown>;
    if ('agentRef' in spec) return 'v0.10.46';
    if ('instanceRef' in spec) return 'v0.5.8';
  }
  // Any other kind only one release serves.
  if (typeof kind === 'string') {
    const servedBy = releaseNames.filter((release) => index[release].kinds[kind]);
    if (servedBy.length === 1) return servedBy[0];
  }
  return undefined;
}
