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
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) {
      errors.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${goValue(value)}: ${field} in body should be at least ${schema.minLength} chars long` });
    }
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) {
      errors.push({ reason: 'FieldValueTooLong', field, message: `Too long: may not be more than ${schema.maxLength} bytes` });
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
