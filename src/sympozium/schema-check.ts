import type { PathSegment } from './manifests.js';
import type { Schema } from './schema-builders.js';
import { suggestField, suggestPlacement, suggestValue } from './suggest.js';

/**
 * A validator for the structural-schema subset the bundled schemas (and CRDs) use. Written here rather than
 * taken from ajv because what users need from it is what ajv does badly: every problem rather than the first,
 * the path and exact file position of each, "did you mean" for unknown fields searched across the whole
 * subtree, Kubernetes' closed-object semantics (no properties means no unknown fields, not "anything goes"),
 * and the Kubernetes extensions (int-or-string, preserve-unknown-fields). The subset is small enough that a
 * hand-written checker stays short and its messages stay ours.
 */

export interface Finding {
  path: PathSegment[];
  /** Point at the key (unknown fields) or at the value. */
  at: 'key' | 'value';
  message: string;
  severity: 'error' | 'note';
}

/** Beyond this many problems in one document the rest are summarised: one root cause usually explains them. */
export const maxProblemsPerDocument = 100;
/** Deeper than any schema: open-ended subtrees (preserve-unknown-fields) are not walked further. */
const maxDepth = 64;

/** YAML 1.1 (what kubectl and the API server's YAML decoder use) reads these unquoted words as booleans. */
const yaml11Booleans = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'n', 'N', 'no', 'No', 'NO', 'on', 'On', 'ON', 'off', 'Off', 'OFF']);

const patternMessages: Record<string, string> = {
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$':
    'must be a Kubernetes name: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit',
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$': 'must be lowercase letters, digits and "-", starting and ending with a letter or digit',
  '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$': 'must be a duration such as 90s, 10m or 1h30m',
};

export function formatPath(segments: PathSegment[]): string {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? `a number (${value})` : `a decimal number (${value})`;
  if (typeof value === 'string') return `a string (${JSON.stringify(value.length > 30 ? `${value.slice(0, 27)}...` : value)})`;
  return `a ${typeof value} (${String(value)})`;
}

const typeNames: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
};

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matchesType(value: unknown, type: NonNullable<Schema['type']>): boolean {
  switch (type) {
    case 'object':
      return isPlainObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
  }
}

const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const dateTime = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export interface CheckContext {
  findings: Finding[];
  /** The whole document's schema, to find where a misplaced field belongs. */
  root?: Schema;
  /** The source text of an unquoted scalar at a path, when known (for the YAML 1.1 boolean trap). */
  plainScalar?: (path: PathSegment[]) => string | undefined;
}

/** Checks a value against a schema, appending every problem found. */
export function checkValue(value: unknown, schema: Schema, path: PathSegment[], ctx: CheckContext): void {
  if (ctx.findings.length > maxProblemsPerDocument || path.length > maxDepth) return;
  const error = (message: string, at: 'key' | 'value' = 'value') => ctx.findings.push({ path, at, message, severity: 'error' });

  if (value === null) {
    if (!schema.nullable) error(`must be ${expected(schema)}, not null (remove the field or give it a value)`);
    return;
  }
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value === 'string') checkString(value, schema, path, ctx);
    else if (!(typeof value === 'number' && Number.isInteger(value))) error(`must be a whole number or a string, not ${describeType(value)}`);
    return;
  }
  if (schema.type && !matchesType(value, schema.type)) {
    let message = `must be ${typeNames[schema.type]}, not ${describeType(value)}`;
    if (schema.type === 'string' && (typeof value === 'number' || typeof value === 'boolean')) {
      message += `; quote it: "${String(value)}"`;
    }
    error(message);
    return;
  }
  if (schema.enum && !schema.enum.includes(value as string)) {
    const allowed = schema.enum.map(String);
    const close = typeof value === 'string' ? suggestValue(value, allowed) : undefined;
    error(`must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}${close ? ` (did you mean ${close}?)` : ''}`);
    return;
  }
  if (typeof value === 'string') checkString(value, schema, path, ctx);
  else if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) error(`must be at least ${schema.minimum}, not ${value}`);
    if (schema.maximum !== undefined && value > schema.maximum) error(`must be at most ${schema.maximum}, not ${value}`);
  } else if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) error(`needs at least ${schema.minItems} item(s)`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) error(`may have at most ${schema.maxItems} item(s)`);
    if (schema.items) value.forEach((item, index) => checkValue(item, schema.items!, [...path, index], ctx));
    checkListType(value, schema, path, ctx);
  } else if (isPlainObject(value)) {
    checkObject(value, schema, path, ctx);
  }
}

function checkString(value: string, schema: Schema, path: PathSegment[], ctx: CheckContext): void {
  const error = (message: string) => ctx.findings.push({ path, at: 'value', message, severity: 'error' });
  const plain = ctx.plainScalar?.(path);
  if (plain !== undefined && yaml11Booleans.has(plain)) {
    error(`quote "${plain}": kubectl reads an unquoted ${plain} as a boolean (YAML 1.1), and this field is a string`);
    return;
  }
  if (schema.minLength !== undefined || schema.maxLength !== undefined) {
    const length = characters(value);
    if (schema.minLength !== undefined && length < schema.minLength) {
      error(schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters long`);
    }
    if (schema.maxLength !== undefined && length > schema.maxLength) error(`must be at most ${schema.maxLength} characters long`);
  }
  if (schema.pattern && value !== '') {
    const regex = compiled(schema.pattern);
    if (regex && !regex.test(value)) error(`${JSON.stringify(value)} ${patternMessages[schema.pattern] ?? `does not match ${schema.pattern}`}`);
  }
  if (schema.format === 'byte' && !base64.test(value.replace(/\s/g, ''))) {
    error('must be base64-encoded (put plain text under stringData instead of data)');
  }
  if (schema.format === 'date-time' && !dateTime.test(value)) error('must be an RFC 3339 time such as 2026-03-25T12:00:00Z');
}

const surrogate = /[\uD800-\uDFFF]/;
/** Length as the API server counts it for minLength and maxLength: characters (runes), not UTF-16 units. */
function characters(value: string): number {
  if (!surrogate.test(value)) return value.length;
  let count = 0;
  for (const _ of value) count++;
  return count;
}

const patterns = new Map<string, RegExp | undefined>();
function compiled(pattern: string): RegExp | undefined {
  if (!patterns.has(pattern)) {
    try {
      patterns.set(pattern, new RegExp(pattern, 'u'));
    } catch {
      // A cluster schema may use a regex dialect JavaScript does not read; the API server checks it anyway.
      patterns.set(pattern, undefined);
    }
  }
  return patterns.get(pattern);
}

function checkObject(value: Record<string, unknown>, schema: Schema, path: PathSegment[], ctx: CheckContext): void {
  // The API server drops a null the schema does not allow (unless it has a default), then fills in defaults,
  // then checks required fields (apiextensions' PruneNonNullableNullsWithoutDefaults, Default, validation).
  for (const name of schema.required ?? []) {
    const child = schema.properties?.[name] ?? schema.additionalProperties;
    if (child?.default !== undefined) continue;
    if (!(name in value)) ctx.findings.push({ path: [...path, name], at: 'value', message: 'required', severity: 'error' });
    else if (value[name] === null && child && !child.nullable) {
      ctx.findings.push({ path: [...path, name], at: 'value', message: 'required: null counts as missing', severity: 'error' });
    }
  }
  const open = schema['x-kubernetes-preserve-unknown-fields'] === true;
  for (const [name, child] of Object.entries(value)) {
    const childSchema = schema.properties?.[name] ?? schema.additionalProperties;
    if (childSchema && child === null && !childSchema.nullable) {
      if (!schema.required?.includes(name) || childSchema.default !== undefined) {
        const message = childSchema.default === undefined ? 'null: the API server drops this field' : 'null: the API server uses the default instead';
        ctx.findings.push({ path: [...path, name], at: 'value', message, severity: 'note' });
      }
    } else if (childSchema) {
      checkValue(child, childSchema, [...path, name], ctx);
    } else if (!open && (schema.properties || schema.type === 'object')) {
      const pattern = formatPath([...path, name]).replace(/\[\d+\]/g, '[]');
      const suggestion = suggestField(name, schema, pattern);
      // Nothing close below: the field may have been written at the wrong level (policyRef under agents).
      const elsewhere = suggestion || !ctx.root ? undefined : suggestPlacement(name, ctx.root, formatPath(path));
      const hint = suggestion ? ` (did you mean ${suggestion}?)` : elsewhere ? ` (it belongs at ${elsewhere})` : '';
      ctx.findings.push({ path: [...path, name], at: 'key', message: `unknown field "${name}"${hint}`, severity: 'error' });
    }
  }
}

function expected(schema: Schema): string {
  if (schema['x-kubernetes-int-or-string']) return 'a whole number or a string';
  return schema.type ? typeNames[schema.type]! : 'a value';
}

/** x-kubernetes-list-type set and map: the API server refuses duplicate items (set) or duplicate keys (map). */
function checkListType(value: unknown[], schema: Schema, path: PathSegment[], ctx: CheckContext): void {
  const listType = schema['x-kubernetes-list-type'];
  if (listType !== 'set' && listType !== 'map') return;
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  const seen = new Set<string>();
  value.forEach((item, index) => {
    const identity =
      listType === 'set' ? JSON.stringify(item) : isPlainObject(item) ? JSON.stringify(keys.map((key) => item[key] ?? null)) : undefined;
    if (identity === undefined) return;
    if (seen.has(identity)) {
      const what = listType === 'set' ? 'duplicate value' : `duplicate entry for ${keys.join(', ')}`;
      ctx.findings.push({ path: [...path, index], at: 'value', message: `${what}: ${identity}`, severity: 'error' });
    }
    seen.add(identity);
  });
}
