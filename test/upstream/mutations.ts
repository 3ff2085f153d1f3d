/**
 * Single-field mutations of a document, derived from its CRD schema: the walker goes down the document and the
 * openAPIV3Schema side by side and, at each field, proposes the changes that schema keyword is about (a required
 * field dropped, an unknown field added, another type, a value outside an enum, a pattern, a bound or a length,
 * a duplicate in a set or map list, null), plus the ObjectMeta rules the API server applies itself.
 *
 * Each mutation says what the Kubernetes rule it exercises predicts (`rule`), when the rule is clear-cut; the
 * verdicts compared are the validator's and the API server's, the prediction only says who is right when they
 * differ.
 */

type Json = unknown;
type Segment = string | number;
type Schema = Record<string, any>;

export interface Mutation {
  /** What kind of change, for grouping: `type`, `required`, `metadata.labels.key`... */
  category: string;
  /** Where, as `spec.skills[0].name`. */
  path: string;
  description: string;
  /** The changes to the sample, applied in order by `build` (only for the mutations chosen: there are many). */
  edits: Edit[];
  /** What the Kubernetes rule predicts: true (accepted), false (refused), undefined (not clear-cut). */
  rule?: boolean;
}

function formatPath(path: Segment[]): string {
  return path.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`)).join('');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface Edit {
  path: Segment[];
  /** undefined removes the field (or list item). */
  value: Json;
}

/** The sample with a mutation's edits applied, as a fresh object. */
export function build(original: Record<string, unknown>, edits: Edit[]): Record<string, unknown> {
  let object = original;
  for (const edit of edits) object = withValue(object, edit.path, edit.value);
  return object === original ? structuredClone(original) : object;
}

/** A copy of `root` with the value at `path` replaced (or removed, for `undefined`). */
function withValue(root: Record<string, unknown>, path: Segment[], value: Json): Record<string, unknown> {
  const copy = structuredClone(root);
  let parent: any = copy;
  for (const segment of path.slice(0, -1)) parent = parent[segment];
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else parent[last] = structuredClone(value);
  return copy;
}

function jsonType(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

const samples: Record<string, Json> = { string: 'text', integer: 7, number: 2.5, boolean: true, object: { a: 'b' }, array: ['x'] };

function typeAccepts(schema: Schema, value: Json): boolean {
  const actual = jsonType(value);
  if (schema['x-kubernetes-int-or-string']) return actual === 'integer' || actual === 'string';
  if (!schema.type) return true;
  return schema.type === actual || (schema.type === 'number' && actual === 'integer');
}

/** A string of `length` code points; astral ones count once for the API server (runes) but twice in UTF-16. */
function text(length: number, astral = false): string {
  return (astral ? '\u{1F600}' : 'a').repeat(Math.max(0, length));
}

function violatesPattern(pattern: string): string | undefined {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
  return ['-x-', 'UPPER case', 'a b', '!', 'x/', '9'].find((candidate) => !regex.test(candidate));
}

function satisfiesPattern(pattern: string): string | undefined {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
  return ['abc', 'a1', 'x', '10', 'example.com/ok', 'Ab_9'].find((candidate) => regex.test(candidate));
}

/** A value the schema accepts, as small as it allows, or undefined where that takes guessing (a pattern). */
function synthesize(schema: Schema, depth: number): Json {
  if (depth > 6) return undefined;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (schema['x-kubernetes-int-or-string']) return schema.pattern ? '1' : 1;
  switch (schema.type) {
    case 'string':
      if (schema.format === 'date-time') return '2026-03-25T12:00:00Z';
      if (schema.format === 'byte') return 'eA==';
      if (schema.pattern) return satisfiesPattern(schema.pattern);
      return text(Math.max(1, schema.minLength ?? 1));
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return true;
    case 'array': {
      const count = Math.max(1, schema.minItems ?? 1);
      const item = schema.items ? synthesize(schema.items, depth + 1) : undefined;
      if (item === undefined) return undefined;
      if (count > 1 && schema['x-kubernetes-list-type']) return undefined;
      return Array(count).fill(item);
    }
    case 'object': {
      const result: Record<string, Json> = {};
      for (const name of (schema.required ?? []) as string[]) {
        const child = schema.properties?.[name];
        const value = child ? synthesize(child, depth + 1) : undefined;
        if (value === undefined) return undefined;
        result[name] = value;
      }
      return result;
    }
    default:
      return undefined;
  }
}

/** Mutations of one value against its schema, and of everything below it. */
function walk(prefix: Edit[], value: Json, schema: Schema | undefined, path: Segment[], out: Mutation[], fills = 0): void {
  if (!schema || path.length > 30) return;
  const at = formatPath(path);
  const edit = (where: Segment[], next: Json): Edit[] => [...prefix, { path: where, value: next }];
  const push = (category: string, description: string, next: Json, rule?: boolean) =>
    out.push({ category, path: at, description, edits: edit(path, next), rule });

  // Another type: the schema's own type check (int-or-string takes both).
  for (const [name, sample] of Object.entries(samples)) {
    if (jsonType(value) === name || (name === 'number' && jsonType(value) === 'integer')) continue;
    push(`type.${name}`, `${jsonType(value)} -> ${name}`, sample, schema.enum ? false : typeAccepts(schema, sample) ? undefined : false);
  }
  if (schema['x-kubernetes-int-or-string']) {
    // Either type is the schema's to take; a pattern (quantities) applies to the string form only.
    push('intOrString.integer', 'a whole number', 3, schema.minimum === undefined ? true : undefined);
    const good = schema.pattern ? satisfiesPattern(schema.pattern) : 'a-string';
    if (good !== undefined) push('intOrString.string', JSON.stringify(good), good, true);
    push('intOrString.decimal', 'a decimal number', 1.5, false);
  }
  if (schema.enum) {
    push('enum', 'a value not in the enum', typeof schema.enum[0] === 'string' ? 'NotInTheEnum' : 999, false);
    push('enum.member', 'another enum member', schema.enum[schema.enum.length - 1], true);
  }
  if (typeof value === 'string' || schema['x-kubernetes-int-or-string']) {
    if (schema.pattern) {
      const bad = violatesPattern(schema.pattern);
      if (bad !== undefined) push('pattern', `${JSON.stringify(bad)} against ${schema.pattern}`, bad, schema.enum ? undefined : false);
      const good = satisfiesPattern(schema.pattern);
      if (good !== undefined && !schema.enum && schema.maxLength === undefined) push('pattern.match', `${JSON.stringify(good)}`, good, undefined);
    }
    if (schema.format === 'date-time') {
      push('format.date-time', 'not a time', 'yesterday', false);
      push('format.date-time.ok', 'a time', '2026-03-25T12:00:00Z', true);
    }
    if (typeof schema.minLength === 'number' && schema.minLength > 0) {
      push('minLength', `${schema.minLength - 1} characters`, text(schema.minLength - 1), false);
    }
    if (typeof schema.maxLength === 'number') {
      push('maxLength', `${schema.maxLength + 1} characters`, text(schema.maxLength + 1), false);
      if (!schema.pattern && !schema.enum) push('maxLength.runes', `${schema.maxLength} astral characters`, text(schema.maxLength, true), true);
    }
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number') {
      push('minimum', `${schema.minimum - 1}`, schema.minimum - 1, false);
      push('minimum.equal', `${schema.minimum}`, schema.minimum, schema.maximum === undefined || schema.maximum >= schema.minimum ? true : undefined);
    }
    if (typeof schema.maximum === 'number') push('maximum', `${schema.maximum + 1}`, schema.maximum + 1, false);
  }
  if (Array.isArray(value)) {
    const items = schema.items as Schema | undefined;
    if (typeof schema.minItems === 'number' && schema.minItems > 0) push('minItems', 'too few items', value.slice(0, schema.minItems - 1), false);
    if (typeof schema.maxItems === 'number' && value.length > 0) {
      push('maxItems', 'too many items', [...value, ...Array(schema.maxItems + 1 - value.length).fill(value[0])], false);
    }
    if (value.length > 0 && schema['x-kubernetes-list-type'] === 'set') push('listType.set', 'a duplicate value', [...value, value[0]], false);
    if (value.length > 0 && schema['x-kubernetes-list-type'] === 'map') push('listType.map', 'a duplicate key', [...value, value[0]], false);
    if (value.length > 0 && items && !items['x-kubernetes-list-type']) {
      push('items.null', 'a null item', [...value, null], items.nullable ? true : false);
    }
    value.forEach((item, index) => walk(prefix, item, items, [...path, index], out, fills));
    return;
  }
  if (!isObject(value)) return;
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const open = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const additional = isObject(schema.additionalProperties) ? (schema.additionalProperties as Schema) : undefined;
  if (!additional) {
    const closed = !open && (schema.properties !== undefined || schema.type === 'object');
    out.push({
      category: open ? 'unknown.preserved' : 'unknown',
      path: at,
      description: 'an unknown field',
      edits: edit([...path, 'zzUnknownField'], 'x'),
      rule: !closed,
    });
  }
  for (const name of (schema.required ?? []) as string[]) {
    if (!(name in value)) continue;
    const hasDefault = properties[name]?.default !== undefined;
    // Defaulting runs before validation: a required field with a default is filled in.
    out.push({ category: 'required', path: formatPath([...path, name]), description: `without ${name}`, edits: edit([...path, name], undefined), rule: hasDefault });
    const child = properties[name] ?? {};
    out.push({
      category: 'required.null',
      path: formatPath([...path, name]),
      description: `${name}: null`,
      edits: edit([...path, name], null),
      rule: child.nullable || child.default !== undefined,
    });
  }
  for (const [name, child] of Object.entries(properties)) {
    // Two filled-in levels reach every constraint upstream's CRDs have; more would only multiply the candidates.
    if (name in value || fills >= 2 || (path.length === 0 && name !== 'status')) continue;
    // An absent optional field, written with a value its schema accepts, then mutated like a present one:
    // most bounds, lengths and list types sit on fields upstream's samples leave out.
    const filled = synthesize(child, 0);
    if (filled !== undefined) {
      const next = edit([...path, name], filled);
      out.push({ category: 'absent.filled', path: formatPath([...path, name]), description: 'an optional field, filled in', edits: next, rule: true });
      walk(next, filled, child, [...path, name], out, fills + 1);
    }
    if (child.type === 'object' && child.properties && !child['x-kubernetes-preserve-unknown-fields']) {
      // An absent optional object, written with only an unknown field: unknown fields one level deeper.
      out.push({
        category: 'unknown.absent',
        path: formatPath([...path, name]),
        description: 'a new object with an unknown field',
        edits: edit([...path, name], { zzUnknownField: 'x' }),
        rule: false,
      });
    }
  }
  for (const [name, child] of Object.entries(value)) {
    const childSchema = properties[name] ?? additional;
    if (!childSchema) continue;
    if (path.length === 0 && (name === 'apiVersion' || name === 'kind' || name === 'metadata')) continue;
    if (!(schema.required ?? []).includes(name)) {
      // A null the schema does not allow is dropped (or defaulted) before validation, not refused.
      out.push({ category: 'null', path: formatPath([...path, name]), description: `${name}: null`, edits: edit([...path, name], null), rule: true });
    }
    walk(prefix, child, childSchema, [...path, name], out, fills);
  }
}

/** ObjectMeta: what apimachinery's ValidateObjectMeta and the metadata decoding decide, no CRD schema. */
function metadataMutations(root: Record<string, unknown>, out: Mutation[]): void {
  const meta = (root.metadata ?? {}) as Record<string, unknown>;
  const add = (category: string, description: string, change: (meta: Record<string, unknown>) => void, rule: boolean) => {
    const next = structuredClone(meta);
    change(next);
    out.push({ category, path: 'metadata', description, edits: [{ path: ['metadata'], value: next }], rule });
  };
  const name = String(meta.name ?? 'sample');
  add('metadata.name', 'uppercase name', (m) => (m.name = `${name}-Upper`), false);
  add('metadata.name', 'underscore in name', (m) => (m.name = `${name}_x`), false);
  add('metadata.name', 'name ends with -', (m) => (m.name = `${name}-`), false);
  add('metadata.name', 'name with dots', (m) => (m.name = `${name}.v2.example`), true);
  add('metadata.name', '253-character name', (m) => (m.name = `${name}.${'a'.repeat(252 - name.length)}`), true);
  add('metadata.name', '254-character name', (m) => (m.name = `${name}.${'a'.repeat(253 - name.length)}`), false);
  add('metadata.name.type', 'name is a number', (m) => (m.name = 12), false);
  add('metadata.generateName', 'bad generateName', (m) => (m.generateName = 'Bad_Prefix-'), false);
  add('metadata.generateName', 'good generateName', (m) => (m.generateName = 'good-prefix-'), true);
  add('metadata.namespace', 'bad namespace', (m) => (m.namespace = 'Bad_Namespace'), false);
  add('metadata.namespace', 'namespace with a dot', (m) => (m.namespace = 'sympozium.system'), false);
  add('metadata.unknown', 'unknown metadata field', (m) => (m.zzUnknownField = 'x'), false);
  const labels = (m: Record<string, unknown>) => ((m.labels ??= {}) as Record<string, unknown>);
  const annotations = (m: Record<string, unknown>) => ((m.annotations ??= {}) as Record<string, unknown>);
  add('metadata.labels.key', 'prefixed label key', (m) => (labels(m)['example.com/tier'] = 'a'), true);
  add('metadata.labels.key', 'label key with a space', (m) => (labels(m)['bad key'] = 'a'), false);
  add('metadata.labels.key', 'label key with an uppercase prefix', (m) => (labels(m)['Example.com/tier'] = 'a'), false);
  add('metadata.labels.key', '64-character label name', (m) => (labels(m)[text(64)] = 'a'), false);
  add('metadata.labels.key', 'label key with an empty prefix', (m) => (labels(m)['/tier'] = 'a'), false);
  add('metadata.labels.value', 'empty label value', (m) => (labels(m).tier = ''), true);
  add('metadata.labels.value', '63-character label value', (m) => (labels(m).tier = text(63)), true);
  add('metadata.labels.value', '64-character label value', (m) => (labels(m).tier = text(64)), false);
  add('metadata.labels.value', 'label value with a space', (m) => (labels(m).tier = 'a b'), false);
  add('metadata.labels.value', 'label value ending with -', (m) => (labels(m).tier = 'ab-'), false);
  add('metadata.labels.type', 'label value is a number', (m) => (labels(m).tier = 5), false);
  add('metadata.labels.type', 'labels is a list', (m) => (m.labels = ['a']), false);
  add('metadata.annotations.key', 'annotation key with a space', (m) => (annotations(m)['bad key'] = 'a'), false);
  add('metadata.annotations.key', 'annotation key with a prefix', (m) => (annotations(m)['example.com/note'] = 'any text at all'), true);
  add('metadata.annotations.type', 'annotation value is a boolean', (m) => (annotations(m).note = true), false);
  add('metadata.annotations.size', 'annotations over 256 KiB in all', (m) => (annotations(m).note = text(256 * 1024)), false);
  add('metadata.finalizers', 'qualified finalizer', (m) => (m.finalizers = ['example.com/cleanup']), true);
  add('metadata.finalizers', 'finalizer with a space', (m) => (m.finalizers = ['bad finalizer']), false);
}

export function mutationsOf(object: Record<string, unknown>, schema: Schema): Mutation[] {
  const out: Mutation[] = [];
  walk([], object, schema, [], out);
  for (const mutation of out) {
    if (mutation.path !== 'status' && !mutation.path.startsWith('status.') && !mutation.path.startsWith('status[')) continue;
    // Every Sympozium CRD has a status subresource: a create drops status after decoding (PrepareForCreate), so
    // only what decoding itself refuses (an unknown field, under strict field validation) still counts.
    if (!mutation.category.startsWith('unknown')) mutation.rule = true;
    mutation.category = `status.${mutation.category}`;
  }
  metadataMutations(object, out);
  return out;
}

/** A minimal document of a kind upstream has no sample of, so that its constraints are exercised too. */
export function synthesizedDocument(apiVersion: string, kind: string, schema: Schema): Record<string, unknown> | undefined {
  const spec = schema.properties?.spec ? synthesize(schema.properties.spec, 0) : undefined;
  if (schema.properties?.spec && spec === undefined) return undefined;
  return { apiVersion, kind, metadata: { name: `synthesized-${kind.toLowerCase()}` }, ...(spec === undefined ? {} : { spec }) };
}

/** mulberry32: small, seeded, the same on every machine. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Up to `perCategory` of each category, chosen by the seeded generator, so rare constraints are not drowned. */
export function sample(mutations: Mutation[], perCategory: (category: string) => number, random: () => number): Mutation[] {
  const byCategory = new Map<string, Mutation[]>();
  for (const mutation of mutations) {
    const list = byCategory.get(mutation.category) ?? [];
    list.push(mutation);
    byCategory.set(mutation.category, list);
  }
  const chosen: Mutation[] = [];
  for (const category of [...byCategory.keys()].sort()) {
    const list = byCategory.get(category)!;
    for (let index = list.length - 1; index > 0; index--) {
      const other = Math.floor(random() * (index + 1));
      [list[index], list[other]] = [list[other]!, list[index]!];
    }
    chosen.push(...list.slice(0, perCategory(category)));
  }
  return chosen;
}
