/**
 * Field sets as structured-merge-diff writes them in `managedFields[].fieldsV1`: `f:<field>` for map keys,
 * `k:{"name":"web"}` for items of associative lists, `.` for a list item itself. Internally a set of paths, each
 * path a JSON-encoded token array, so set algebra stays cheap.
 */
import { deepEqual, isObject, strategicMergeKey } from './patch.js';
import type { ResourceType } from './registry.js';

/** Returns the merge key of the list at `names` (field names from the root, list items left out). */
export type ListKeyResolver = (names: string[]) => string | undefined;

export function listKeyResolver(t: ResourceType): ListKeyResolver {
  if (!t.custom) return (names) => strategicMergeKey(t.kind, names);
  return (names) => {
    let schema: any = t.schema;
    for (const name of names) {
      if (!schema) return undefined;
      if (schema.type === 'array') schema = schema.items;
      schema = schema?.properties?.[name] ?? (isObject(schema?.additionalProperties) ? schema.additionalProperties : undefined);
    }
    if (schema?.['x-kubernetes-list-type'] === 'map' && Array.isArray(schema['x-kubernetes-list-map-keys'])) {
      return schema['x-kubernetes-list-map-keys'][0];
    }
    return undefined;
  };
}

export type FieldSet = Set<string>;

const METADATA_OWNED = new Set(['labels', 'annotations', 'finalizers', 'ownerReferences']);

function itemToken(key: string, item: any): string {
  return `k:${JSON.stringify({ [key]: item[key] })}`;
}

function collect(value: any, tokens: string[], names: string[], keyFor: ListKeyResolver, out: FieldSet): void {
  if (isObject(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) collect(v, [...tokens, `f:${k}`], [...names, k], keyFor, out);
    return;
  }
  if (Array.isArray(value) && value.length > 0) {
    const key = keyFor(names);
    if (key && value.every((i) => isObject(i) && i[key] !== undefined)) {
      for (const item of value) {
        const itemTokens = [...tokens, itemToken(key, item)];
        out.add(JSON.stringify([...itemTokens, '.']));
        for (const [k, v] of Object.entries(item)) collect(v, [...itemTokens, `f:${k}`], [...names, k], keyFor, out);
      }
      return;
    }
  }
  out.add(JSON.stringify(tokens));
}

/** The leaf fields an object sets, restricted to what field managers own (`status` only when asked). */
export function fieldsOf(obj: any, keyFor: ListKeyResolver, part: 'main' | 'status' | 'all'): FieldSet {
  const out: FieldSet = new Set();
  for (const [k, v] of Object.entries(obj ?? {})) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (k === 'metadata') {
      if (part === 'status') continue;
      for (const [mk, mv] of Object.entries(isObject(v) ? v : {})) {
        if (METADATA_OWNED.has(mk)) collect(mv, ['f:metadata', `f:${mk}`], ['metadata', mk], keyFor, out);
      }
      continue;
    }
    if (part === 'status' && k !== 'status') continue;
    if (part === 'main' && k === 'status') continue;
    collect(v, [`f:${k}`], [k], keyFor, out);
  }
  return out;
}

const MISSING = Symbol('missing');

/** The value at a path, or MISSING. */
export function valueAt(obj: any, path: string[]): unknown {
  let cur: any = obj;
  for (const token of path) {
    if (token === '.') return cur;
    if (token.startsWith('f:')) {
      if (!isObject(cur) || !Object.prototype.hasOwnProperty.call(cur, token.slice(2))) return MISSING;
      cur = cur[token.slice(2)];
    } else if (token.startsWith('k:')) {
      if (!Array.isArray(cur)) return MISSING;
      const match = JSON.parse(token.slice(2)) as Record<string, unknown>;
      cur = cur.find((i) => isObject(i) && Object.entries(match).every(([k, v]) => deepEqual(i[k], v)));
      if (cur === undefined) return MISSING;
    } else return MISSING;
  }
  return cur;
}

export function isMissing(v: unknown): boolean {
  return v === MISSING;
}

/** Removes the field or list item at a path (used when an applier stops owning it). */
export function removeAt(obj: any, path: string[]): void {
  const tokens = path[path.length - 1] === '.' ? path.slice(0, -1) : path;
  const last = tokens[tokens.length - 1];
  if (!last) return;
  const parent = valueAt(obj, tokens.slice(0, -1));
  if (isMissing(parent)) return;
  if (last.startsWith('f:') && isObject(parent)) delete parent[last.slice(2)];
  else if (last.startsWith('k:') && Array.isArray(parent)) {
    const match = JSON.parse(last.slice(2)) as Record<string, unknown>;
    const i = parent.findIndex((item) => isObject(item) && Object.entries(match).every(([k, v]) => deepEqual(item[k], v)));
    if (i >= 0) parent.splice(i, 1);
  }
}

export function toFieldsV1(set: FieldSet): Record<string, any> {
  const root: Record<string, any> = {};
  for (const encoded of [...set].sort()) {
    let node = root;
    for (const token of JSON.parse(encoded) as string[]) node = node[token] ??= {};
  }
  return root;
}

export function fromFieldsV1(tree: unknown): FieldSet {
  const out: FieldSet = new Set();
  const walk = (node: any, tokens: string[]) => {
    const keys = isObject(node) ? Object.keys(node) : [];
    if (keys.length === 0) {
      if (tokens.length) out.add(JSON.stringify(tokens));
      return;
    }
    for (const k of keys) walk(node[k], [...tokens, k]);
  };
  walk(tree, []);
  return out;
}

/** Human-readable path for conflict messages: `.spec.replicas`, `.spec.containers[name="web"].image`. */
export function describePath(path: string[]): string {
  let out = '';
  for (const token of path) {
    if (token === '.') continue;
    if (token.startsWith('f:')) out += `.${token.slice(2)}`;
    else if (token.startsWith('k:')) {
      const match = JSON.parse(token.slice(2)) as Record<string, unknown>;
      out += `[${Object.entries(match)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    } else if (token.startsWith('v:')) out += `[=${token.slice(2)}]`;
  }
  return out;
}
