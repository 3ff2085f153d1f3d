/**
 * Label and field selectors with upstream's syntax (`k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`,
 * `!k`, comma meaning AND). Parsed once per request into a predicate so a list or a watch fan-out only pays
 * for the match.
 */
import { badRequest } from './errors.js';

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

type Labels = Record<string, string> | undefined;
export type LabelPredicate = (labels: Labels) => boolean;

/** Splits on commas that are not inside parentheses. */
function splitTop(input: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of input) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

const KEY_RE = /^([a-z0-9A-Z]([a-z0-9A-Z._-]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([a-z0-9A-Z._-]*[a-z0-9A-Z])?$/;
const VALUE_RE = /^([a-z0-9A-Z]([a-z0-9A-Z._-]*[a-z0-9A-Z])?)?$/;

function checkKey(key: string, whole: string): string {
  if (!KEY_RE.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}": in selector "${whole}"`);
  return key;
}

function checkValue(value: string, whole: string): string {
  if (!VALUE_RE.test(value) || value.length > 63) {
    throw badRequest(`unable to parse requirement: invalid label value: "${value}": in selector "${whole}"`);
  }
  return value;
}

function parseRequirement(term: string, whole: string): Requirement {
  let m = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
  if (m) {
    const values = m[3]!.split(',').map((v) => checkValue(v.trim(), whole));
    return { op: m[2] as 'in' | 'notin', key: checkKey(m[1]!, whole), values };
  }
  m = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
  if (m) {
    const op = m[2] === '!=' ? 'neq' : 'eq';
    return { op, key: checkKey(m[1]!, whole), value: checkValue(m[3]!.trim(), whole) };
  }
  m = /^!\s*(\S+)$/.exec(term);
  if (m) return { op: 'notexists', key: checkKey(m[1]!, whole) };
  if (/^\S+$/.test(term)) return { op: 'exists', key: checkKey(term, whole) };
  throw badRequest(`unable to parse requirement: found '${term}', expected: identifier: in selector "${whole}"`);
}

function matches(req: Requirement, labels: Labels): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = has ? labels![req.key] : undefined;
  switch (req.op) {
    case 'eq':
      return has && value === req.value;
    case 'neq':
      return !has || value !== req.value;
    case 'in':
      return has && req.values.includes(value!);
    case 'notin':
      return !has || !req.values.includes(value!);
    case 'exists':
      return has;
    case 'notexists':
      return !has;
  }
}

/** Parses a label selector; an empty or absent one matches everything. Throws a 400 on bad syntax. */
export function parseLabelSelector(selector: string | null | undefined): LabelPredicate | undefined {
  if (!selector || !selector.trim()) return undefined;
  const reqs = splitTop(selector).map((t) => parseRequirement(t, selector));
  return (labels) => reqs.every((r) => matches(r, labels));
}

export type FieldGetter = (obj: any) => string | undefined;
export type ObjectPredicate = (obj: any) => boolean;

/**
 * Parses a field selector against the fields a type supports (`metadata.name` and `metadata.namespace` always).
 * An unsupported field is a 400, as upstream.
 */
export function parseFieldSelector(
  selector: string | null | undefined,
  supported: Record<string, FieldGetter>,
): ObjectPredicate | undefined {
  if (!selector || !selector.trim()) return undefined;
  const tests: ObjectPredicate[] = [];
  for (const term of splitTop(selector)) {
    const m = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const field = m[1]!;
    const getter = supported[field];
    if (!getter) {
      throw badRequest(`field label not supported: ${field}`);
    }
    const value = m[3]!.trim();
    const negate = m[2] === '!=';
    tests.push((obj) => (getter(obj) ?? '') === value !== negate);
  }
  return (obj) => tests.every((t) => t(obj));
}

export const COMMON_FIELDS: Record<string, FieldGetter> = {
  'metadata.name': (o) => o?.metadata?.name,
  'metadata.namespace': (o) => o?.metadata?.namespace ?? '',
};
