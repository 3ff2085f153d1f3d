/**
 * Deletion as upstream's generic store does it: preconditions, finalizers (deletionTimestamp and a MODIFIED
 * event until they are gone), the Success Status or the deleted object as reply, and the cascades a namespace or
 * a CRD brings (their objects go first, so watchers see DELETED for each).
 */
import type { Store } from './store.js';
import { rfc3339, type WriteOptions, type WriteResult } from './writes.js';
import { ApiError, notFound, successStatus } from './errors.js';
import { deepClone, isObject } from './patch.js';
import { apiVersionOf, type Registry, type ResourceType } from './registry.js';

/** The part of Cluster a delete touches, stated here so that deletion.ts and cluster.ts do not import each other. */
interface DeletionHost {
  readonly store: Store;
  readonly registry: Registry;
  now(): number;
  list(t: ResourceType, namespace: string | undefined, predicate?: (o: any) => boolean): any[];
}

export function deleteObject(cluster: DeletionHost, t: ResourceType, namespace: string | undefined, name: string, options: any, opts: Pick<WriteOptions, 'dryRun'>): WriteResult {
  const prev = cluster.store.get(t.storageKey, t.namespaced ? namespace : undefined, name);
  if (!prev) throw notFound(t.group, t.resource, name);
  const pre = isObject(options?.preconditions) ? options.preconditions : {};
  if (pre.uid && pre.uid !== prev.metadata.uid) {
    throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${t.group ? `${t.resource}.${t.group}` : t.resource} "${name}": Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${prev.metadata.uid}`, { name, group: t.group, kind: t.resource });
  }
  if (pre.resourceVersion && pre.resourceVersion !== prev.metadata.resourceVersion) {
    throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${t.group ? `${t.resource}.${t.group}` : t.resource} "${name}": Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${prev.metadata.resourceVersion}`, { name, group: t.group, kind: t.resource });
  }
  const finalizers: unknown[] = Array.isArray(prev.metadata.finalizers) ? prev.metadata.finalizers : [];
  if (finalizers.length > 0) {
    if (prev.metadata.deletionTimestamp) return { object: prev, code: 200, warnings: [] };
    const next = deepClone(prev);
    next.metadata.deletionTimestamp = rfc3339(cluster.now());
    next.metadata.deletionGracePeriodSeconds = 0;
    if (t.hasGeneration) next.metadata.generation = (prev.metadata.generation ?? 0) + 1;
    if (opts.dryRun) return { object: next, code: 200, warnings: [] };
    cluster.store.write(t.storageKey, next);
    return { object: next, code: 200, warnings: [] };
  }
  if (opts.dryRun) return { object: deleteReply(t, prev), code: 200, warnings: [] };
  const gone = finishDelete(cluster, t, prev);
  return { object: deleteReply(t, gone), code: 200, warnings: [] };
}

function deleteReply(t: ResourceType, obj: any): any {
  if (t.deleteReturnsObject) return obj;
  return successStatus({ name: obj.metadata.name, group: t.group, kind: t.resource, uid: obj.metadata.uid });
}

/** Removes an object for good, cascading for namespaces and CRDs. */
export function finishDelete(cluster: DeletionHost, t: ResourceType, prev: any): any {
  if (t.kind === 'Namespace') {
    const ns = prev.metadata.name;
    for (const rt of cluster.registry.all()) {
      if (!rt.namespaced) continue;
      for (const o of [...cluster.store.list(rt.storageKey, ns)]) cluster.store.remove(rt.storageKey, ns, o.metadata.name);
    }
  }
  if (t.kind === 'CustomResourceDefinition') {
    const types = cluster.registry.removeCrd(prev.metadata.name);
    const keys = new Set(types.map((x) => x.storageKey));
    if (types.length === 0) {
      const spec = prev.spec ?? {};
      keys.add(`${spec.group}/${spec.names?.plural}`);
    }
    for (const key of keys) {
      for (const o of [...cluster.store.list(key)]) cluster.store.remove(key, o.metadata.namespace, o.metadata.name);
      cluster.store.terminateWatchers(key);
      cluster.store.dropTable(key);
    }
  }
  return cluster.store.remove(t.storageKey, t.namespaced ? prev.metadata.namespace : undefined, prev.metadata.name);
}

export function deleteCollection(cluster: DeletionHost, t: ResourceType, namespace: string | undefined, predicate: ((o: any) => boolean) | undefined, options: any, opts: Pick<WriteOptions, 'dryRun'>): any {
  const items: any[] = [];
  for (const o of [...cluster.list(t, namespace, predicate)]) {
    const result = deleteObject(cluster, t, o.metadata.namespace, o.metadata.name, options, opts);
    items.push(isObject(result.object) && result.object.kind === 'Status' ? o : result.object);
  }
  return { apiVersion: apiVersionOf(t), kind: t.listKind, metadata: { resourceVersion: String(cluster.store.rv) }, items };
}
