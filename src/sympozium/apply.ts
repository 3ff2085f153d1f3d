import { createHash } from 'node:crypto';
import type { KubeClient, KubeList, KubeObject } from '../kube/client.js';
import { objectPath, resolveResource, type ResolvedResource } from '../kube/discovery.js';
import { KubeApiError } from '../kube/errors.js';

/**
 * The cluster side of `apply`: objects grouped into dependency tiers (what others refer to goes first), each
 * tier applied in parallel over the client's one connection pool with server-side apply, and each outcome
 * told apart as created (201), configured (resourceVersion moved) or unchanged. A planned object holds no
 * body: each write pass fetches the bodies again, one file at a time (held-manifests.ts), so memory follows the
 * largest file rather than the sum of them.
 */

/** Which document of which file read for this apply: the file's place in the read order, the document's in it. */
export interface DocumentRef {
  file: number;
  index: number;
}

export interface PlannedObject {
  /** Where it came from, for messages: "demo.yaml:3". */
  source: string;
  ref: DocumentRef;
  apiVersion: string;
  resource: ResolvedResource;
  namespace?: string;
  name: string;
  path: string;
  tier: number;
}

type Outcome = 'created' | 'configured' | 'unchanged';

export interface AppliedObject {
  planned: PlannedObject;
  outcome: Outcome;
}

/**
 * The bodies of planned objects, in batches of whole files in the order of the files: the document's object
 * with the namespace apply decided on (see bodyOf), or that object already as JSON text, which is sent as is.
 */
export type BodyLoader = (items: PlannedObject[]) => AsyncIterable<{ planned: PlannedObject; body: KubeObject | string }[]>;

export interface FailedObject {
  planned: PlannedObject;
  error: unknown;
}

const tierOfKind: Record<string, number> = {
  Namespace: 0,
  CustomResourceDefinition: 0,
  Secret: 1,
  ConfigMap: 1,
  ServiceAccount: 1,
  Role: 1,
  ClusterRole: 1,
  RoleBinding: 1,
  ClusterRoleBinding: 1,
  SkillPack: 2,
  SympoziumPolicy: 3,
  SympoziumInstance: 4,
  Agent: 4,
  PersonaPack: 4,
  Ensemble: 4,
  AgentRun: 5,
};

/** Namespaces, Secrets/ConfigMaps, SkillPacks, policies, instances, runs, then everything else. */
export function tierOf(kind: string): number {
  return tierOfKind[kind] ?? (kind.endsWith('Policy') ? 3 : 6);
}

/** `sympoziuminstance.sympozium.ai/demo`, `secret/demo-openai-key`: the names kubectl prints. */
export function displayName(planned: Pick<PlannedObject, 'resource' | 'name'>): string {
  const kind = planned.resource.kind.toLowerCase();
  return `${planned.resource.group ? `${kind}.${planned.resource.group}` : kind}/${planned.name}`;
}

export async function planObject(kube: KubeClient, source: string, ref: DocumentRef, object: KubeObject, defaultNamespace: string): Promise<PlannedObject> {
  const resource = await resolveResource(kube, String(object.apiVersion), String(object.kind));
  const name = String(object.metadata?.name ?? '');
  const namespace = resource.namespaced ? (object.metadata?.namespace as string | undefined) || defaultNamespace : undefined;
  return { source, ref, apiVersion: String(object.apiVersion), resource, namespace, name, path: objectPath(resource, namespace, name), tier: tierOf(resource.kind) };
}

/** What is sent for a planned object: server-side apply needs the namespace in the body to match the path. */
export function bodyOf(planned: PlannedObject, object: KubeObject): KubeObject {
  return planned.namespace ? { ...object, metadata: { ...object.metadata, namespace: planned.namespace } } : object;
}

/** What is known of an object before it is applied: enough to tell the outcomes apart, not the object itself. */
interface Before {
  resourceVersion?: string;
  /** A hash of its comparable form, for dry runs (where the resourceVersion does not move). */
  fingerprint: string;
}

/** Fields that change on every write or belong to the server are ignored; a hash, so no copy is kept. */
function fingerprint(object: KubeObject): string {
  const { metadata, status: _status, ...rest } = object as KubeObject & { status?: unknown };
  const { resourceVersion: _rv, managedFields: _mf, generation: _g, creationTimestamp: _c, uid: _u, ...meta } = metadata ?? {};
  return createHash('sha256').update(JSON.stringify({ ...rest, metadata: meta })).digest('base64');
}

function before(object: KubeObject): Before {
  return { resourceVersion: object.metadata?.resourceVersion, fingerprint: fingerprint(object) };
}

/** Pages of a list, as kubectl reads them (500 at a time), so a large collection is never one response in memory. */
const listPage = 500;

/**
 * What exists before applying, to tell created, configured and unchanged apart: one list per collection that
 * holds several of the objects (200 files of Secrets and instances cost two lists, not 200 GETs); collections
 * with one or two objects are left to a GET each. Only a resourceVersion and a hash are kept per object.
 */
async function prefetchExisting(kube: KubeClient, planned: PlannedObject[]): Promise<Map<string, Map<string, Before>>> {
  const groups = new Map<string, number>();
  for (const item of planned) {
    const collection = objectPath(item.resource, item.namespace);
    groups.set(collection, (groups.get(collection) ?? 0) + 1);
  }
  const existing = new Map<string, Map<string, Before>>();
  await Promise.all(
    [...groups].filter(([, count]) => count >= 3).map(async ([collection]) => {
      const found = new Map<string, Before>();
      let token: string | undefined;
      do {
        const list: KubeList<KubeObject> = await kube.list<KubeObject>(collection, { limit: listPage, continue: token });
        for (const item of list.items) found.set(String(item.metadata.name), before(item));
        token = list.metadata?.continue || undefined;
      } while (token);
      existing.set(collection, found);
    }),
  );
  return existing;
}

async function applyOne(
  kube: KubeClient,
  planned: PlannedObject,
  body: KubeObject | string,
  options: { force: boolean; dryRun: boolean; existing?: Map<string, Map<string, Before>> },
): Promise<AppliedObject> {
  const listed = options.existing?.get(objectPath(planned.resource, planned.namespace));
  const fetched = listed ? undefined : await kube.getOrUndefined<KubeObject>(planned.path);
  const was = listed ? listed.get(planned.name) : fetched && before(fetched);
  const response = await kube.apply<KubeObject>(planned.path, body, { force: options.force, dryRun: options.dryRun });
  const after = response.body;
  let outcome: Outcome;
  if (response.status === 201 || !was) outcome = 'created';
  else if (options.dryRun) outcome = was.fingerprint === fingerprint(after) ? 'unchanged' : 'configured';
  else outcome = was.resourceVersion === after.metadata?.resourceVersion ? 'unchanged' : 'configured';
  return { planned, outcome };
}

/** Runs `work` over `items` with at most `limit` in flight, keeping results in input order. */
export async function inParallel<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await work(items[index]!) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Applies tier by tier; stops after the first tier with a failure (later tiers depend on earlier ones), and
 * reports what was applied, what failed and what was never sent. Within a tier the bodies come from `load` a
 * file at a time; if loading fails (a file changed since it was validated), what that file held of the tier
 * failed with that error and nothing more is sent.
 */
export async function applyInTiers(
  kube: KubeClient,
  planned: PlannedObject[],
  options: { force: boolean; dryRun: boolean; load: BodyLoader; concurrency?: number; onTier?: (applied: AppliedObject[], failed: FailedObject[]) => void },
): Promise<{ applied: AppliedObject[]; failed: FailedObject[]; skipped: PlannedObject[] }> {
  const tiers = new Map<number, PlannedObject[]>();
  for (const item of planned) {
    const tier = tiers.get(item.tier);
    if (tier) tier.push(item);
    else tiers.set(item.tier, [item]);
  }
  const order = [...tiers.keys()].sort((a, b) => a - b);
  const applied: AppliedObject[] = [];
  const failed: FailedObject[] = [];
  const skipped: PlannedObject[] = [];
  for (const tier of order) {
    const items = tiers.get(tier)!;
    if (failed.length > 0) {
      skipped.push(...items);
      continue;
    }
    const existing = await prefetchExisting(kube, items);
    const tierApplied: AppliedObject[] = [];
    const tierFailed: FailedObject[] = [];
    const sent = new Set<PlannedObject>();
    try {
      for await (const batch of options.load(items)) {
        const results = await inParallel(batch, options.concurrency ?? 16, ({ planned: item, body }) => applyOne(kube, item, body, { ...options, existing }));
        results.forEach((result, index) => {
          const item = batch[index]!.planned;
          sent.add(item);
          if (result.status === 'fulfilled') tierApplied.push(result.value);
          else tierFailed.push({ planned: item, error: result.reason });
        });
      }
    } catch (error) {
      // The file that could not be loaded again: its objects of this tier failed; the rest were never sent.
      const unsent = items.filter((item) => !sent.has(item));
      const file = unsent[0]?.ref.file;
      for (const item of unsent) {
        if (item.ref.file === file) tierFailed.push({ planned: item, error });
        else skipped.push(item);
      }
    }
    applied.push(...tierApplied);
    failed.push(...tierFailed);
    options.onTier?.(tierApplied, tierFailed);
  }
  return { applied, failed, skipped };
}

/** For a 409 from server-side apply: which fields, owned by which manager, in words. */
export function describeConflict(error: unknown): { fields: string[]; managers: string[] } | undefined {
  if (!(error instanceof KubeApiError) || error.code !== 409) return undefined;
  const causes = error.status.details?.causes ?? [];
  const fields = causes.map((cause) => cause.field ?? '').filter(Boolean);
  const managers = [
    ...new Set(
      causes
        .map((cause) => /conflict with "([^"]+)"/.exec(cause.message ?? '')?.[1])
        .concat([/conflicts? with "([^"]+)"/.exec(error.message)?.[1]])
        .filter((manager): manager is string => Boolean(manager)),
    ),
  ];
  if (fields.length === 0 && managers.length === 0) return undefined;
  return { fields, managers };
}
