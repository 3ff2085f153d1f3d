/**
 * Server-side apply and managedFields, a simplified structured-merge-diff: maps merge granularly, lists are
 * atomic unless they have a merge key, an applier conflicts with other managers that own a field it sets to a
 * different value (409 with causes, unless `force`), and fields it stops applying are removed when nobody
 * else owns them. Ordinary writes are recorded as `Update` entries that take over the fields they change.
 */
import { ApiError } from './errors.js';
import { describePath, fieldsOf, fromFieldsV1, isMissing, removeAt, toFieldsV1, valueAt, type FieldSet, type ListKeyResolver } from './fields.js';
import { deepClone, deepEqual, isObject } from './patch.js';

interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, any>;
  subresource?: string;
}

export interface ManagerContext {
  manager: string;
  apiVersion: string;
  subresource?: 'status';
  keyFor: ListKeyResolver;
  now: string;
}

interface Entry {
  raw: ManagedFieldsEntry;
  set: FieldSet;
}

function parseEntries(obj: any): Entry[] {
  const raw: unknown = obj?.metadata?.managedFields;
  if (!Array.isArray(raw)) return [];
  return raw.filter(isObject).map((e) => ({ raw: e as ManagedFieldsEntry, set: fromFieldsV1(e.fieldsV1) }));
}

function sameManager(e: ManagedFieldsEntry, manager: string, operation: string, subresource: string | undefined): boolean {
  return e.manager === manager && e.operation === operation && (e.subresource ?? undefined) === subresource;
}

function minus(a: FieldSet, b: Iterable<string>): FieldSet {
  const out = new Set(a);
  for (const x of b) out.delete(x);
  return out;
}

function setsEqual(a: FieldSet, b: FieldSet): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function serialise(entries: Entry[]): ManagedFieldsEntry[] {
  return entries
    .filter((e) => e.set.size > 0)
    .map((e) => {
      const out: ManagedFieldsEntry = {
        manager: e.raw.manager,
        operation: e.raw.operation,
        apiVersion: e.raw.apiVersion,
        time: e.raw.time,
        fieldsType: 'FieldsV1',
        fieldsV1: toFieldsV1(e.set),
      };
      if (e.raw.subresource) out.subresource = e.raw.subresource;
      return out;
    });
}

function partOf(ctx: ManagerContext, statusSubresource: boolean): 'main' | 'status' | 'all' {
  if (ctx.subresource === 'status') return 'status';
  return statusSubresource ? 'main' : 'all';
}

/**
 * Records a non-apply write (create, update, patch) on `next.metadata.managedFields`. Returns false when the
 * write changed no owned field, in which case the entries are left exactly as they were (no new timestamp).
 */
export function recordUpdate(prev: any | undefined, next: any, ctx: ManagerContext, statusSubresource: boolean): void {
  const entries = parseEntries(prev);
  const part = partOf(ctx, statusSubresource);
  const nextFields = fieldsOf(next, ctx.keyFor, part);
  const changed: string[] = [];
  for (const encoded of nextFields) {
    const path = JSON.parse(encoded) as string[];
    if (!prev || !deepEqual(valueAt(prev, path), valueAt(next, path))) changed.push(encoded);
  }
  const removed: string[] = [];
  for (const e of entries) {
    for (const encoded of e.set) if (isMissing(valueAt(next, JSON.parse(encoded) as string[]))) removed.push(encoded);
  }
  if (changed.length === 0 && removed.length === 0) {
    if (prev?.metadata?.managedFields !== undefined) next.metadata.managedFields = prev.metadata.managedFields;
    else delete next.metadata.managedFields;
    return;
  }
  let own = entries.find((e) => sameManager(e.raw, ctx.manager, 'Update', ctx.subresource));
  for (const e of entries) if (e !== own) e.set = minus(minus(e.set, changed), removed);
  if (!own) {
    own = { raw: { manager: ctx.manager, operation: 'Update', apiVersion: ctx.apiVersion, time: ctx.now, fieldsType: 'FieldsV1', fieldsV1: {} }, set: new Set() };
    if (ctx.subresource) own.raw.subresource = ctx.subresource;
    entries.push(own);
  }
  own.set = minus(new Set([...own.set, ...changed]), removed);
  own.raw = { ...own.raw, time: ctx.now, apiVersion: ctx.apiVersion };
  next.metadata.managedFields = serialise(entries);
}

function printManager(e: ManagedFieldsEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion}`;
  return s;
}

function conflictError(conflicts: Array<{ entry: ManagedFieldsEntry; path: string }>): ApiError {
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0]!.entry)}: ${conflicts[0]!.path}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const m = printManager(c.entry);
      byManager.set(m, [...(byManager.get(m) ?? []), c.path]);
    }
    const lines: string[] = [];
    for (const m of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${m}:`);
      for (const p of byManager.get(m)!) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, {
    causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.entry)}`, field: c.path })),
  });
}

function applyMerge(live: unknown, applied: unknown, names: string[], keyFor: ListKeyResolver): unknown {
  if (isObject(applied) && isObject(live)) {
    const out: Record<string, any> = { ...live };
    for (const [k, v] of Object.entries(applied)) out[k] = applyMerge(live[k], v, [...names, k], keyFor);
    return out;
  }
  if (Array.isArray(applied) && Array.isArray(live)) {
    const key = keyFor(names);
    if (key && applied.every((i) => isObject(i) && i[key] !== undefined)) {
      const out = [...live];
      for (const item of applied) {
        const i = out.findIndex((o) => isObject(o) && deepEqual(o[key], item[key]));
        if (i >= 0) out[i] = applyMerge(out[i], item, names, keyFor);
        else out.push(deepClone(item));
      }
      return out;
    }
  }
  return deepClone(applied);
}

export interface ApplyResult {
  object: any;
}

/**
 * Merges an applied configuration into the live object (or an empty one when creating) and updates
 * managedFields. Throws a 409 with FieldManagerConflict causes unless `force`.
 */
export function serverSideApply(live: any | undefined, applied: any, ctx: ManagerContext, force: boolean, statusSubresource: boolean): ApplyResult {
  const part = partOf(ctx, statusSubresource);
  const entries = parseEntries(live);
  const appliedFields = fieldsOf(applied, ctx.keyFor, part);
  let own = entries.find((e) => sameManager(e.raw, ctx.manager, 'Apply', ctx.subresource));
  const conflicts: Array<{ entry: ManagedFieldsEntry; path: string; encoded: string; holder: Entry }> = [];
  if (live) {
    for (const encoded of appliedFields) {
      const path = JSON.parse(encoded) as string[];
      if (path[path.length - 1] === '.') continue;
      for (const e of entries) {
        if (e === own || !e.set.has(encoded)) continue;
        if (!deepEqual(valueAt(live, path), valueAt(applied, path))) {
          conflicts.push({ entry: e.raw, path: describePath(path), encoded, holder: e });
        }
      }
    }
  }
  if (conflicts.length && !force) throw conflictError(conflicts);
  for (const c of conflicts) c.holder.set = minus(c.holder.set, [c.encoded]);

  const base = live ? deepClone(live) : { metadata: {} };
  const merged: any = { ...base };
  for (const [k, v] of Object.entries(applied)) {
    if (k === 'metadata') continue;
    if (part === 'status' && k !== 'status') continue;
    if (part === 'main' && k === 'status') continue;
    merged[k] = applyMerge(base[k], v, [k], ctx.keyFor);
  }
  merged.metadata = { ...base.metadata };
  if (part !== 'status' && isObject(applied.metadata)) {
    for (const k of ['labels', 'annotations', 'finalizers', 'ownerReferences']) {
      if (applied.metadata[k] !== undefined) merged.metadata[k] = applyMerge(base.metadata?.[k], applied.metadata[k], ['metadata', k], ctx.keyFor);
    }
  }
  if (!live) {
    for (const k of ['name', 'generateName', 'namespace']) if (applied.metadata?.[k] !== undefined) merged.metadata[k] = applied.metadata[k];
  }

  // Fields this manager applied before but no longer does go away, unless another manager still owns them.
  if (own) {
    const dropped = [...own.set].filter((p) => !appliedFields.has(p));
    // Whole list items go first (their fields go with them), then fields deepest first.
    const isItem = (p: string) => p.endsWith(',"."]');
    dropped.sort((a, b) => Number(isItem(b)) - Number(isItem(a)) || b.length - a.length);
    for (const encoded of dropped) {
      if (entries.some((e) => e !== own && e.set.has(encoded))) continue;
      if (isItem(encoded)) {
        // Keep an item another manager still owns fields of.
        const prefix = encoded.slice(0, -'"."]'.length);
        if (entries.some((e) => e !== own && [...e.set].some((p) => p.startsWith(prefix)))) continue;
      }
      removeAt(merged, JSON.parse(encoded) as string[]);
    }
  }

  const unchangedSet = own !== undefined && setsEqual(own.set, appliedFields);
  if (!own) {
    own = { raw: { manager: ctx.manager, operation: 'Apply', apiVersion: ctx.apiVersion, time: ctx.now, fieldsType: 'FieldsV1', fieldsV1: {} }, set: new Set() };
    if (ctx.subresource) own.raw.subresource = ctx.subresource;
    entries.push(own);
  }
  own.set = appliedFields;
  if (!unchangedSet || conflicts.length) own.raw = { ...own.raw, time: ctx.now, apiVersion: ctx.apiVersion };
  merged.metadata.managedFields = serialise(entries);
  return { object: merged };
}
