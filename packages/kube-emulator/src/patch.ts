/**
 * The three non-apply patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge
 * patch for the built-in kinds (merge keys and `$patch`/`$setElementOrder`/`$deleteFromPrimitiveList`/
 * `$retainKeys` directives). Each returns a new object and leaves its inputs untouched.
 */
import { ApiError, badRequest } from './errors.js';

export function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepClone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ak = Object.keys(a as object);
  const bk = Object.keys(b as object);
  if (ak.length !== bk.length) return false;
  for (const k of ak) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!deepEqual((a as any)[k], (b as any)[k])) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// JSON merge patch

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return deepClone(patch);
  const result: Record<string, any> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = mergePatch(result[k], v);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// JSON patch

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error(`JSON pointer must start with "/": ${path}`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function patchFailure(message: string): ApiError {
  // Upstream wraps the jsonpatch error in NewGenericServerResponse(422): the message is the generic one and the
  // library's text goes into a cause.
  return new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ reason: 'UnexpectedServerResponse', message }],
  });
}

function containerAt(doc: any, tokens: string[], op: string, path: string): any {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      const i = Number(t);
      if (!/^\d+$/.test(t) || i >= cur.length) throw patchFailure(`${op} operation does not apply: doc is missing path: ${path}: missing value`);
      cur = cur[i];
    } else if (isObject(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, t)) throw patchFailure(`${op} operation does not apply: doc is missing path: ${path}: missing value`);
      cur = cur[t];
    } else throw patchFailure(`${op} operation does not apply: doc is missing path: ${path}: missing value`);
  }
  return cur;
}

function getAt(doc: any, path: string, op: string): any {
  const tokens = parsePointer(path);
  return containerAt(doc, tokens, op, path);
}

function removeAt(doc: any, path: string, op: string): any {
  const tokens = parsePointer(path);
  const last = tokens.pop();
  if (last === undefined) throw patchFailure(`${op} operation does not apply: cannot remove the whole document`);
  const parent = containerAt(doc, tokens, op, path);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!/^\d+$/.test(last) || i >= parent.length) throw patchFailure(`${op} operation does not apply: doc is missing key: ${path}: missing value`);
    return parent.splice(i, 1)[0];
  }
  if (!isObject(parent) || !Object.prototype.hasOwnProperty.call(parent, last)) {
    throw patchFailure(`${op} operation does not apply: doc is missing key: ${path}: missing value`);
  }
  const value = parent[last];
  delete parent[last];
  return value;
}

function addAt(doc: any, path: string, value: unknown, op: string, replace: boolean): any {
  const tokens = parsePointer(path);
  const last = tokens.pop();
  if (last === undefined) return value;
  const parent = containerAt(doc, tokens, op, path);
  if (Array.isArray(parent)) {
    if (last === '-' && !replace) parent.push(value);
    else {
      const i = Number(last);
      if (!/^\d+$/.test(last) || i > parent.length || (replace && i >= parent.length)) {
        throw patchFailure(`${op} operation does not apply: doc is missing key: ${path}: missing value`);
      }
      if (replace) parent[i] = value;
      else parent.splice(i, 0, value);
    }
  } else if (isObject(parent)) {
    if (replace && !Object.prototype.hasOwnProperty.call(parent, last)) {
      throw patchFailure(`${op} operation does not apply: doc is missing key: ${path}: missing value`);
    }
    parent[last] = value;
  } else throw patchFailure(`${op} operation does not apply: doc is missing path: ${path}: missing value`);
  return doc;
}

/** Applies an RFC 6902 patch. A body that is not an array of operations is a 400, a failing op a 422. */
export function jsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) {
    const what = isObject(patch) ? 'object' : typeof patch === 'string' ? 'string' : typeof patch === 'number' ? 'number' : 'value';
    throw badRequest(`json: cannot unmarshal ${what} into Go value of type jsonpatch.Patch`);
  }
  let doc = deepClone(target);
  for (const raw of patch) {
    if (!isObject(raw)) throw badRequest('json: cannot unmarshal non-object into Go value of type jsonpatch.Operation');
    const op = String(raw.op ?? '');
    const path = raw.path;
    if (typeof path !== 'string') throw patchFailure(`${op} operation does not apply: missing path`);
    try {
      switch (op) {
        case 'add':
          doc = addAt(doc, path, deepClone(raw.value), op, false);
          break;
        case 'replace':
          doc = path === '' ? deepClone(raw.value) : addAt(doc, path, deepClone(raw.value), op, true);
          break;
        case 'remove':
          removeAt(doc, path, op);
          break;
        case 'move': {
          const value = removeAt(doc, String(raw.from), op);
          doc = addAt(doc, path, value, op, false);
          break;
        }
        case 'copy': {
          const value = deepClone(getAt(doc, String(raw.from), op));
          doc = addAt(doc, path, value, op, false);
          break;
        }
        case 'test': {
          const value = getAt(doc, path, op);
          if (!deepEqual(value, raw.value)) throw patchFailure(`testing value ${path} failed: test failed`);
          break;
        }
        default:
          throw patchFailure(`Unexpected kind: ${op}`);
      }
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw patchFailure((err as Error).message);
    }
  }
  return doc;
}

// ---------------------------------------------------------------------------------------------------------
// Strategic merge patch

/**
 * The merge key of a list, from the path of field names leading to it (list indices left out). Lists not in
 * this table are replaced as a whole, except primitive lists that upstream merges (finalizers).
 */
export function strategicMergeKey(kind: string, path: string[]): string | undefined {
  const field = path[path.length - 1];
  const parent = path[path.length - 2];
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'ports':
      if (kind === 'Service' && path.length === 2 && parent === 'spec') return 'port';
      return 'containerPort';
    case 'ownerReferences':
      return 'uid';
    case 'conditions':
      return 'type';
    default:
      return undefined;
  }
}

const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

function smpObject(original: Record<string, any>, patch: Record<string, any>, kind: string, path: string[]): Record<string, any> {
  if (patch.$patch === 'replace') {
    const rest = { ...patch };
    delete rest.$patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === 'delete') return {};
  const result: Record<string, any> = { ...original };
  const retainKeys: string[] | undefined = Array.isArray(patch.$retainKeys) ? patch.$retainKeys : undefined;
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/') || key.startsWith('$deleteFromPrimitiveList/')) continue;
    if (value === null) {
      delete result[key];
      continue;
    }
    const childPath = [...path, key];
    if (Array.isArray(value)) {
      result[key] = smpList(Array.isArray(result[key]) ? result[key] : [], value, kind, childPath, patch[`$setElementOrder/${key}`]);
    } else if (isObject(value)) {
      result[key] = smpObject(isObject(result[key]) ? result[key] : {}, value, kind, childPath);
    } else result[key] = value;
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$deleteFromPrimitiveList/') && Array.isArray(value)) {
      const list = key.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(result[list])) result[list] = result[list].filter((v: unknown) => !value.some((d) => deepEqual(d, v)));
    } else if (key.startsWith('$setElementOrder/') && Array.isArray(value)) {
      const list = key.slice('$setElementOrder/'.length);
      if (!(list in patch) && Array.isArray(result[list])) {
        result[list] = orderList(result[list], value, strategicMergeKey(kind, [...path, list]));
      }
    }
  }
  if (retainKeys) for (const k of Object.keys(result)) if (!retainKeys.includes(k)) delete result[k];
  return result;
}

function stripDirectives(v: any): any {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, any> = {};
  for (const [k, val] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(val);
  return out;
}

function orderList(list: any[], order: any[], mergeKey: string | undefined): any[] {
  const keyOf = (item: any) => (mergeKey && isObject(item) ? JSON.stringify(item[mergeKey]) : JSON.stringify(item));
  const orderKeys = order.map(keyOf);
  const positioned = list.filter((i) => orderKeys.includes(keyOf(i)));
  positioned.sort((a, b) => orderKeys.indexOf(keyOf(a)) - orderKeys.indexOf(keyOf(b)));
  const rest = list.filter((i) => !orderKeys.includes(keyOf(i)));
  return [...positioned, ...rest];
}

function smpList(original: any[], patch: any[], kind: string, path: string[], order: any[] | undefined): any[] {
  const mergeKey = strategicMergeKey(kind, path);
  if (patch.some((i) => isObject(i) && i.$patch === 'replace')) {
    return stripDirectives(patch.filter((i) => !(isObject(i) && i.$patch === 'replace')));
  }
  if (!mergeKey) {
    if (MERGED_PRIMITIVE_LISTS.has(path[path.length - 1]!)) {
      const merged = [...original];
      for (const v of patch) if (!merged.some((o) => deepEqual(o, v))) merged.push(v);
      return order ? orderList(merged, order, undefined) : merged;
    }
    return stripDirectives(patch);
  }
  const result = original.map((i) => i);
  for (const item of patch) {
    if (!isObject(item)) continue;
    const key = item[mergeKey];
    const index = result.findIndex((o) => isObject(o) && deepEqual(o[mergeKey], key));
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (index >= 0) result[index] = smpObject(result[index], item, kind, path);
    else result.push(smpObject({}, item, kind, path));
  }
  return order ? orderList(result, order, mergeKey) : result;
}

/** Applies a strategic merge patch to a built-in object. */
export function strategicMergePatch(target: unknown, patch: unknown, kind: string): unknown {
  if (!isObject(patch)) throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
  return smpObject(isObject(target) ? target : {}, patch, kind, []);
}
