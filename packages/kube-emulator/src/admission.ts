/**
 * Admission for every write: unknown-field handling (Strict/Warn/Ignore), defaulting, schema pruning and
 * validation into 422 field errors, and the rule for when `metadata.generation` moves.
 */
import { validateBuiltin } from './builtin-validation.js';
import { applyBuiltinDefaults, pruneUnknownBuiltinFields } from './builtins.js';
import type { WriteOptions } from './writes.js';
import { defaultCrd, validateCrd } from './crd.js';
import { badRequest, invalid, type FieldError } from './errors.js';
import { validateObjectMeta } from './objectmeta.js';
import { deepEqual, isObject } from './patch.js';
import type { ResourceType } from './registry.js';
import { processCustomResource } from './schema.js';


/** Prepares a create or update result for storage; returns the warnings for the `Warning` header. */
export function admit(t: ResourceType, obj: any, prev: any | undefined, opts: WriteOptions, droppedUnknownFields: string[] = []): string[] {
  const isCreate = prev === undefined;
  const warnings: string[] = [];
  const errors: FieldError[] = [];
  const unknownFields = [...droppedUnknownFields, ...pruneUnknownBuiltinFields(obj)];
  if (t.custom) {
    const outcome = processCustomResource(obj, t.schema);
    unknownFields.push(...outcome.unknownFields);
    errors.push(...outcome.errors);
  }
  if (unknownFields.length) {
    if (opts.fieldValidation === 'Strict') {
      throw badRequest(`strict decoding error: ${unknownFields.map((f) => `unknown field "${f}"`).join(', ')}`);
    }
    if (opts.fieldValidation === 'Warn') for (const f of unknownFields) warnings.push(`unknown field "${f}"`);
  }
  if (t.kind === 'CustomResourceDefinition') {
    defaultCrd(obj);
    errors.push(...validateCrd(obj));
  } else if (!t.custom) {
    applyBuiltinDefaults(obj, isCreate);
  }
  const name: unknown = obj.metadata.name;
  errors.push(...validateObjectMeta(t, obj.metadata, prev?.metadata));
  if (t.kind === 'Secret' && isObject(obj.data)) {
    for (const v of Object.values(obj.data)) {
      const text = typeof v === 'string' ? v : '';
      const bad = text.search(/[^A-Za-z0-9+/=]/);
      if (typeof v !== 'string' || bad >= 0 || text.length % 4 !== 0) {
        // []byte fields fail while decoding the request, before validation: a 400, not a 422.
        const at = bad >= 0 ? bad : Math.floor(text.length / 4) * 4;
        throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${at}`);
      }
    }
  }
  if (!t.custom) errors.push(...validateBuiltin(obj, prev));
  if (errors.length) throw invalid(t.group, t.kind, String(name ?? ''), errors);
  return warnings;
}

/** True when anything outside metadata (and outside status, when status is a subresource) changed. */
export function specChanged(t: ResourceType, prev: any, next: any): boolean {
  const keys = new Set([...Object.keys(prev), ...Object.keys(next)]);
  for (const k of keys) {
    if (k === 'metadata' || k === 'apiVersion' || k === 'kind') continue;
    if (k === 'status' && t.statusSubresource) continue;
    if (!deepEqual(prev[k], next[k])) return true;
  }
  return false;
}
