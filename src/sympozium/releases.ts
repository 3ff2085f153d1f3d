import type { Schema } from './schema-builders.js';
import { text as v0_10_46 } from './upstream-schemas/v0.10.46.js';
import { text as v0_5_8 } from './upstream-schemas/v0.5.8.js';

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
  shortNames: string[];
  scope: 'Namespaced' | 'Cluster';
  versions: { name: string; served: boolean; storage: boolean }[];
  /** The CustomResourceDefinition exactly as upstream ships it. */
  crd: { spec: { versions: { name: string; schema?: { openAPIV3Schema?: Schema } }[] } } & Record<string, unknown>;
}

export interface ReleaseData {
  release: Release;
  source: string;
  kinds: Record<string, UpstreamKind>;
}

// Each release's JSON is parsed the first time it is needed, and typed by hand (the data is upstream's).
const texts: Record<Release, string> = { 'v0.5.8': v0_5_8, 'v0.10.46': v0_10_46 };
const parsed = new Map<Release, ReleaseData>();
const data = new Proxy({} as Record<Release, ReleaseData>, {
  get(_target, release: Release) {
    let entry = parsed.get(release);
    if (!entry) {
      entry = JSON.parse(texts[release]) as ReleaseData;
      parsed.set(release, entry);
    }
    return entry;
  },
});

export function isRelease(value: string): value is Release {
  return (releaseNames as readonly string[]).includes(value);
}

export function releaseData(release: Release): ReleaseData {
  return data[release];
}

/** The kind's definition in a release, when that release serves it under this apiVersion. */
export function upstreamKind(release: Release, apiVersion: string, kind: string): UpstreamKind | undefined {
  const entry = data[release].kinds[kind];
  if (!entry) return undefined;
  const [apiGroup, version] = apiVersion.split('/');
  if (apiGroup !== entry.group || !entry.versions.some((served) => served.name === version && served.served)) return undefined;
  return entry;
}

/** The openAPIV3Schema a release's CRD gives for one served version. */
export function upstreamSchema(entry: UpstreamKind, apiVersion: string): Schema | undefined {
  const version = apiVersion.split('/')[1];
  return entry.crd.spec.versions.find((served) => served.name === version)?.schema?.openAPIV3Schema;
}

/** The CRDs of a release, as upstream ships them (deep copies, so callers may not change the shared data). */
export function upstreamCrds(release: Release): Record<string, unknown>[] {
  return Object.values(data[release].kinds).map((entry) => structuredClone(entry.crd));
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
    const servedBy = releaseNames.filter((release) => data[release].kinds[kind]);
    if (servedBy.length === 1) return servedBy[0];
  }
  return undefined;
}
