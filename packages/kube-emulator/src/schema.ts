/**
 * Structural-schema processing for custom resources, in upstream's order: drop nulls where not nullable,
 * apply `default`s, find unknown fields (for Strict/Warn field validation) and prune them, then validate types,
 * enums, bounds and required fields into 422 field errors.
 */
import { goValue, type FieldError } from './errors.js';
import { deepClone, isObject } from './patch.js';

export interface SchemaOutcome {
  /** Paths like `spec.bogus` of fields the schema does not know (already pruned from the object). */
  unknownFields: string[];
  errors: FieldError[];
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function preserves(schema: any): boolean {
  return schema?.['x-kubernetes-preserve-unknown-fields'] === true;
}

/** Walks `value` against `schema`, mutating it (defaults, pruning) and collecting unknown fields and errors. */
function walk(value: any, schema: any, path: string, out: SchemaOutcome): void {
  if (!schema || value === null || value === undefined) return;
  if (isObject(value)) {
    const props: Record<string, any> | undefined = isObject(schema.properties) ? schema.properties : undefined;
    const additional = schema.additionalProperties;
    if (props) {
      for (const [key, sub] of Object.entries(props)) {
        if (value[key] === null && !sub?.nullable) delete value[key];
        if (value[key] === undefined && isObject(sub) && sub.default !== undefined) value[key] = deepClone(sub.default);
      }
    }
    for (const key of Object.keys(value)) {
      const child = join(path, key);
      if (props && Object.prototype.hasOwnProperty.call(props, key)) {
        walk(value[key], props[key], child, out);
      } else if (isObject(additional)) {
        if (value[key] === null && !additional.nullable) delete value[key];
        else walk(value[key], additional, child, out);
      } else if (additional === true || preserves(schema)) {
        continue;
      } else if (props || schema.type === 'object') {
        out.unknownFields.push(child);
        delete value[key];
      }
    }
  } else if (Array.isArray(value) && isObject(schema.items)) {
    value.forEach((item, i) => walk(item, schema.items, `${path}[${i}]`, out));
  }
}

/**
 * strfmt's date-time (kube-openapi validates `format: date-time` with it): RFC 3339 and the ISO 8601 variants
 * strfmt.ParseDateTime accepts (no seconds, no zone, a space instead of T), with a real calendar date.
 */
function isDateTime(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1).map((n) => Number(n ?? 0)) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 && minute < 60 && second < 60;
}

/** Go's %#v of a map[string]interface{}, as field.Duplicate renders list-map keys. */
function goMap(keys: Record<string, unknown>): string {
  return `map[string]interface {}{${Object.entries(keys).map(([k, v]) => `${JSON.stringify(k)}:${goValue(v)}`).join(', ')}}`;
}

/**
 * apiextensions-apiserver listtype.ValidateListSetsAndMaps: a `set` may not hold one value twice, a `map` not two
 * entries with the same x-kubernetes-list-map-keys; each later occurrence is a Duplicate at its index.
 */
function listTypeErrors(value: unknown[], schema: any, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const listType = schema['x-kubernetes-list-type'];
  const seen = new Set<string>();
  if (listType === 'set') {
    value.forEach((item, i) => {
      const key = JSON.stringify(item);
      if (seen.has(key)) errors.push({ reason: 'FieldValueDuplicate', field: `${path}[${i}]`, message: `Duplicate value: ${goValue(item)}` });
      seen.add(key);
    });
  } else if (listType === 'map' && Array.isArray(schema['x-kubernetes-list-map-keys'])) {
    const keyNames: string[] = schema['x-kubernetes-list-map-keys'];
    value.forEach((item, i) => {
      if (!isObject(item)) return;
      const keys: Record<string, unknown> = {};
      for (const k of keyNames) {
        // A missing key with a default counts as the default (upstream defaults before validating).
        const v = item[k] ?? schema.items?.properties?.[k]?.default;
        if (v === undefined) {
          errors.push({ reason: 'FieldValueRequired', field: `${path}[${i}].${k}`, message: 'Required value' });
          return;
        }
        keys[k] = v;
      }
      const key = JSON.stringify(keyNames.map((k) => keys[k]));
      if (seen.has(key)) errors.push({ reason: 'FieldValueDuplicate', field: `${path}[${i}]`, message: `Duplicate value: ${goMap(keys)}` });
      seen.add(key);
    });
  }
  return errors;
}

function validate(value: any, schema: any, path: string, errors: FieldError[]): void {
  if (!isObject(schema) || value === undefined) return;
  const field = path;
  if (value === null) {
    if (!schema.nullable && schema.type) {
      errors.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: "null": ${field} in body must be of type ${schema.type}: "null"` });
    }
    return;
  }
  const actual = jsonType(value);
  if (schema['x-kubernetes-int-or-string']) {
    if (actual !== 'integer' && actual !== 'string') {
      errors.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${goValue(value)}: ${field} in body must be of type integer-or-string: "${actual}"` });
    }
  } else if (typeof schema.type === 'string') {
    const ok = schema.type === actual || (schema.type === 'number' && actual === 'integer');
    if (!ok) {
      errors.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: "${actual}": ${field} in body must be of type ${schema.type}: "${actual}"` });
      return;
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(value))) {
    errors.push({
      reason: 'FieldValueNotSupported',
      field,
      message: `Unsupported value: ${goValue(value)}: supported values: ${schema.enum.map((e: unknown) => goValue(e)).join(', ')}`,
    });
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)) {
      errors.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${value}: ${field} in body should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}` });
    }
    if (typeof schema.maximum === 'number' && (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)) {
      errors.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${value}: ${field} in body should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}` });
    }
  }
  if (typeof value === 'string') {
    // kube-openapi counts characters (utf8.RuneCountInString), not UTF-16 code units.
    const runes = [...value].length;
    if (typeof schema.minLength === 'number' && runes < schema.minLength) {
      errors.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${goValue(value)}: ${field} in body should be at least ${schema.minLength} chars long` });
    }
    if (typeof schema.maxLength === 'number' && runes > schema.maxLength) {
      errors.push({ reason: 'FieldValueTooLong', field, message: `Too long: may not be more than ${schema.maxLength} bytes` });
    }
    if (schema.format === 'date-time' && !isDateTime(value)) {
      errors.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${goValue(value)}: ${field} in body must be of type date-time: ${goValue(value)}` });
    }
    if (typeof schema.pattern === 'string') {
      let re: RegExp | undefined;
      try {
        re = new RegExp(schema.pattern, 'u');
      } catch {
        re = undefined;
      }
      if (re && !re.test(value)) {
        errors.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${goValue(value)}: ${field} in body should match '${schema.pattern}'` });
      }
    }
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
      errors.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${value.length}: ${field} in body should have at least ${schema.minItems} items` });
    }
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
      errors.push({ reason: 'FieldValueTooMany', field, message: `Too many: ${value.length}: must have at most ${schema.maxItems} items` });
    }
    if (isObject(schema.items)) value.forEach((item, i) => validate(item, schema.items, `${path}[${i}]`, errors));
    errors.push(...listTypeErrors(value, schema, path));
  }
  if (isObject(value)) {
    if (Array.isArray(schema.required)) {
      for (const req of schema.required) {
        if (value[req] === undefined) errors.push({ reason: 'FieldValueRequired', field: join(path, req), message: 'Required value' });
      }
    }
    const props = isObject(schema.properties) ? schema.properties : {};
    for (const [key, v] of Object.entries(value)) {
      if (props[key]) validate(v, props[key], join(path, key), errors);
      else if (isObject(schema.additionalProperties)) validate(v, schema.additionalProperties, join(path, key), errors);
    }
  }
}

/**
 * Defaults, prunes and validates a custom resource against its CRD schema. `metadata`, `apiVersion` and `kind`
 * are the server's business and are left alone.
 */
export function processCustomResource(obj: Record<string, any>, schema: any): SchemaOutcome {
  const out: SchemaOutcome = { unknownFields: [], errors: [] };
  if (!isObject(schema)) return out;
  const props = isObject(schema.properties) ? schema.properties : {};
  const rootPreserves = preserves(schema);
  for (const [key, sub] of Object.entries(props)) {
    if (key === 'metadata' || key === 'apiVersion' || key === 'kind') continue;
    if (obj[key] === null && !(sub as any)?.nullable) delete obj[key];
    if (obj[key] === undefined && isObject(sub) && sub.default !== undefined) obj[key] = deepClone(sub.default);
  }
  for (const key of Object.keys(obj)) {
    if (key === 'metadata' || key === 'apiVersion' || key === 'kind') continue;
    if (Object.prototype.hasOwnProperty.call(props, key)) walk(obj[key], props[key], key, out);
    else if (!rootPreserves) {
      out.unknownFields.push(key);
      delete obj[key];
    }
  }
  for (const key of Object.keys(obj)) {
    if (key === 'metadata' || key === 'apiVersion' || key === 'kind') continue;
    if (props[key]) validate(obj[key], props[key], key, out.errors);
  }
  if (Array.isArray(schema.required)) {
    for (const req of schema.required) {
      if (req !== 'metadata' && req !== 'apiVersion' && req !== 'kind' && obj[req] === undefined) {
        out.errors.push({ reason: 'FieldValueRequired', field: req, message: 'Required value' });
      }
    }
  }
  return out;
}
