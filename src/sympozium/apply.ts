import type { KubeClient, KubeObject } from '../kube/client.js';
import { objectPath, resolveResource, type ResolvedResource } from '../kube/discovery.js';
import { KubeApiError } from '../kube/errors.js';

/**
 * The cluster side of `apply`: objects grouped into dependency tiers (what others refer to goes first), each
 * tier applied in parallel over the client's one connection pool with server-side apply, and each outcome
 * told apart as created (201), configured (resourceVersion moved) or unchanged.
 */

export interface PlannedObject {
  /** Where it came from, for messages: "demo.yaml#1". */
  source: string;
  object: KubeObject;
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
  object: KubeObject;
}

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

export async function planObject(kube: KubeClient, source: string, object: KubeObject, defaultNamespace: string): Promise<PlannedObject> {
  const resource = await resolveResource(kube, String(object.apiVersion), String(object.kind));
  const name = String(object.metadata?.name ?? '');
  const namespace = resource.namespaced ? (object.metadata?.namespace as string | undefined) || defaultNamespace : undefined;
  // Server-side apply needs the namespace in the body to match the path.
  const body = resource.namespaced ? { ...object, metadata: { ...object.metadata, namespace } } : object;
  return { source, object: body, resource, namespace, name, path: objectPath(resource, namespace, name), tier: tierOf(resource.kind) };
}

/** Fields that change on every write or belong to the server; ignored when comparing for a dry run. */
function comparable(object: KubeObject | undefined): string {
  if (!object) return '';
  const { metadata, status: _status, ...rest } = object as KubeObject & { status?: unknown };
  const { resourceVersion: _rv, managedFields: _mf, generation: _g, creationTimestamp: _c, uid: _u, ...meta } = metadata ?? {};
  return JSON.stringify({ ...rest, metadata: meta });
}

/**
 * What exists before applying, to tell created, configured and unchanged apart: one list per collection that
 * holds several of the objects (200 files of Secrets and instances cost two lists, not 200 GETs); collections
 * with one or two objects are left to a GET each.
 */
async function prefetchExisting(kube: KubeClient, planned: PlannedObject[]): Promise<Map<string, Map<string, KubeObject>>> {
  const groups = new Map<string, number>();
  for (const item of planned) {
    const collection = objectPath(item.resource, item.namespace);
    groups.set(collection, (groups.get(collection) ?? 0) + 1);
  }
  const existing = new Map<string, Map<string, KubeObject>>();
  await Promise.all(
    [...groups].filter(([, count]) => count >= 3).map(async ([collection]) => {
      const list = await kube.list<KubeObject>(collection);
      existing.set(collection, new Map(list.items.map((item) => [String(item.metadata.name), item])));
    }),
  );
  return existing;
}

async function applyOne(
  kube: KubeClient,
  planned: PlannedObject,
  options: { force: boolean; dryRun: boolean; existing?: Map<string, Map<string, KubeObject>> },
): Promise<AppliedObject> {
  const listed = options.existing?.get(objectPath(planned.resource, planned.namespace));
  const before = listed ? listed.get(planned.name) : await kube.getOrUndefined<KubeObject>(planned.path);
  const response = await kube.apply<KubeObject>(planned.path, planned.object, { force: options.force, dryRun: options.dryRun });
  const after = response.body;
  let outcome: Outcome;
  if (response.status === 201 || !before) outcome = 'created';
  else if (options.dryRun) outcome = comparable(before) === comparable(after) ? 'unchanged' : 'configured';
  else outcome = before.metadata.resourceVersion === after.metadata?.resourceVersion ? 'unchanged' : 'configured';
  return { planned, outcome, object: after };
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
 * reports what was applied, what failed and what was never sent.
 */
export async function applyInTiers(
  kube: KubeClient,
  planned: PlannedObject[],
  options: { force: boolean; dryRun: boolean; concurrency?: number; onTier?: (applied: AppliedObject[], failed: FailedObject[]) => void },
): Promise<{ applied: AppliedObject[]; failed: FailedObject[]; skipped: PlannedObject[] }> {
  const tiers = new Map<number, PlannedObject[]>();
  for (const item of planned) tiers.set(item.tier, [...(tiers.get(item.tier) ?? []), item]);
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
    const results = await inParallel(items, options.concurrency ?? 16, (item) => applyOne(kube, item, { ...options, existing }));
    const tierApplied: AppliedObject[] = [];
    const tierFailed: FailedObject[] = [];
    results.forEach((result, index) => {
      if (result.status === 'fulfilled') tierApplied.push(result.value);
      else tierFailed.push({ planned: items[index]!, error: result.reason });
    });
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
