/**
 * The `/scale` subresource (`kubectl scale`): an autoscaling/v1 Scale view of a Deployment, or of a custom
 * resource whose CRD declares `subresources.scale`; writes to it change only the replicas field they map to.
 */
import type { Cluster } from './cluster.js';
import type { WriteOptions, WriteResult } from './writes.js';
import { badRequest, conflict } from './errors.js';
import { isObject, jsonPatch, mergePatch } from './patch.js';
import type { ResourceType } from './registry.js';

function read(obj: any, path: string): any {
  let cur = obj;
  for (const part of path.replace(/^\./, '').split('.')) cur = cur?.[part];
  return cur;
}

function selectorString(selector: any): string {
  if (typeof selector === 'string') return selector;
  if (!isObject(selector)) return '';
  const parts = Object.entries(isObject(selector.matchLabels) ? selector.matchLabels : {}).map(([k, v]) => `${k}=${v}`);
  for (const e of Array.isArray(selector.matchExpressions) ? selector.matchExpressions : []) {
    const op = String(e.operator ?? '');
    if (op === 'Exists') parts.push(e.key);
    else if (op === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${op.toLowerCase()} (${(e.values ?? []).join(',')})`);
  }
  return parts.join(',');
}

export function scaleOf(t: ResourceType, obj: any): Record<string, unknown> {
  const spec = t.scale!;
  const selector = spec.labelSelectorPath ? read(obj, spec.labelSelectorPath) : undefined;
  const status: Record<string, unknown> = { replicas: read(obj, spec.statusReplicasPath) ?? 0 };
  if (selector !== undefined) status.selector = selectorString(selector);
  const m = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: read(obj, spec.specReplicasPath) ?? 0 },
    status,
  };
}

/** Applies a PUT body or a patch to the Scale view and writes the new replica count to the object. */
export function writeScale(
  cluster: Cluster,
  t: ResourceType,
  namespace: string | undefined,
  name: string,
  change: { put?: any; patchType?: string; patch?: string },
  opts: WriteOptions,
): WriteResult {
  const current = cluster.get(t, namespace, name);
  const view = scaleOf(t, current);
  let next: any;
  if (change.put !== undefined) next = change.put;
  else {
    let body: unknown;
    try {
      body = JSON.parse(change.patch ?? '');
    } catch (err) {
      throw badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    next = change.patchType === 'application/json-patch+json' ? jsonPatch(view, body) : mergePatch(view, body);
  }
  const rv = next?.metadata?.resourceVersion;
  if (rv !== undefined && rv !== '' && String(rv) !== current.metadata.resourceVersion) throw conflict(t.group, t.resource, name);
  const replicas = next?.spec?.replicas;
  if (!Number.isInteger(replicas) || replicas < 0) throw badRequest(`spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be a non-negative integer`);
  const path = t.scale!.specReplicasPath.replace(/^\./, '').split('.');
  const patch: Record<string, any> = {};
  let cursor = patch;
  path.forEach((part, i) => {
    cursor[part] = i === path.length - 1 ? replicas : {};
    cursor = cursor[part];
  });
  const result = cluster.patch(t, namespace, name, 'application/merge-patch+json', JSON.stringify(patch), opts);
  return { ...result, object: scaleOf(t, result.object) };
}
