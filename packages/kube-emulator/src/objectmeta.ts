/**
 * ObjectMeta as kube-apiserver treats it on every create, update and apply, for built-in and custom kinds alike:
 * first decoded into the Go struct (a value of the wrong JSON type is a 400 before anything else), then judged by
 * k8s.io/apimachinery/pkg/api/validation ValidateObjectMeta into 422 field errors.
 */
import { badRequest, goValue, type FieldError } from './errors.js';
import { isObject } from './patch.js';
import type { ResourceType } from './registry.js';

// k8s.io/apimachinery/pkg/util/validation: the regexes and messages of IsDNS1123Subdomain, IsDNS1123Label,
// IsDNS1035Label, IsQualifiedName and IsValidLabelValue, verbatim, because users search for these texts.
const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const anchored = (fmt: string) => new RegExp(`^${fmt}$`);
const DNS1123_LABEL = anchored(DNS1123_LABEL_FMT);
const DNS1123_SUBDOMAIN = anchored(DNS1123_SUBDOMAIN_FMT);
const DNS1035_LABEL = anchored(DNS1035_LABEL_FMT);
const QUALIFIED_NAME = anchored(QUALIFIED_NAME_FMT);
const LABEL_VALUE = anchored(LABEL_VALUE_FMT);

/** validation.RegexError: the message, examples and the regex, joined as upstream does. */
function regexError(message: string, fmt: string, ...examples: string[]): string {
  const eg = examples.length ? `(e.g. ${examples.map((e) => `'${e}'`).join(',  or ')}, ` : '(';
  return `${message} ${eg}regex used for validation is '${fmt}')`;
}

const maxLen = (n: number) => `must be no more than ${n} characters`;

function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(maxLen(253));
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errs.push(regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", DNS1123_SUBDOMAIN_FMT, 'example.com'));
  }
  return errs;
}

function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLen(63));
  if (!DNS1123_LABEL.test(value)) {
    errs.push(regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", DNS1123_LABEL_FMT, 'my-name', '123-abc'));
  }
  return errs;
}

function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLen(63));
  if (!DNS1035_LABEL.test(value)) {
    errs.push(regexError("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character", DNS1035_LABEL_FMT, 'my-name', 'abc-123'));
  }
  return errs;
}

/** validation.IsQualifiedName: an optional DNS-subdomain prefix and '/', then a name part of at most 63. */
function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else for (const msg of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${msg}`);
  } else {
    return [
      `${regexError("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push(`name part ${maxLen(63)}`);
  if (!QUALIFIED_NAME.test(name)) {
    errs.push(`name part ${regexError("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  }
  return errs;
}

/** validation.IsValidLabelValue. */
function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLen(63));
  if (!LABEL_VALUE.test(value)) {
    errs.push(regexError("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  }
  return errs;
}

/** apimachinery's TotalAnnotationSizeLimitB: keys and values together, in bytes. */
const TOTAL_ANNOTATION_SIZE_LIMIT_B = 256 * 1024;

/**
 * maskTrailingDash (ValidateObjectMeta's generateName check with prefix=true): a prefix may end in '-', since the
 * generated suffix follows it.
 */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -2)}a` : name;
}

/** The NameIsDNS... function each kind's strategy passes to ValidateObjectMeta. */
function nameValidator(t: ResourceType): (name: string) => string[] {
  if (t.group === '' && t.kind === 'Namespace') return isDNS1123Label; // ValidateNamespaceName
  if (t.group === '' && t.kind === 'Service') return isDNS1035Label; // ValidateServiceName
  return isDNS1123Subdomain;
}

type FieldKind = 'string' | 'boolean' | 'map[string]string' | '[]string' | '[]v1.OwnerReference';

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

/**
 * Decodes metadata as the Go struct would, refusing what json.Unmarshal refuses. Built-in kinds are decoded as a
 * whole (the path names `metadata.`); custom resources have their metadata decoded alone
 * (apiextensions-apiserver schemaobjectmeta.GetObjectMeta), so the path does not. transformDecodeError wraps it.
 */
export function decodeObjectMeta(t: ResourceType, meta: Record<string, unknown>): void {
  const prefix = t.custom ? '' : 'metadata.';
  const fail = (got: unknown, field: string, type: string): never => {
    const what = jsonKind(got) === 'boolean' ? 'bool' : jsonKind(got);
    throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: json: cannot unmarshal ${what} into Go struct field ObjectMeta.${prefix}${field} of type ${type}`);
  };
  const check = (value: unknown, field: string, kind: FieldKind): void => {
    if (value === null || value === undefined) return;
    switch (kind) {
      case 'string':
      case 'boolean':
        if (typeof value !== kind) fail(value, field, kind === 'boolean' ? 'bool' : 'string');
        return;
      case 'map[string]string':
        if (!isObject(value)) fail(value, field, kind);
        for (const v of Object.values(value as object)) if (v !== null && typeof v !== 'string') fail(v, field, 'string');
        return;
      case '[]string':
        if (!Array.isArray(value)) fail(value, field, kind);
        for (const v of value as unknown[]) if (v !== null && typeof v !== 'string') fail(v, field, 'string');
        return;
      case '[]v1.OwnerReference':
        if (!Array.isArray(value)) fail(value, field, kind);
        for (const ref of value as unknown[]) {
          if (ref === null) continue;
          if (!isObject(ref)) fail(ref, field, 'v1.OwnerReference');
          const r = ref as Record<string, unknown>;
          for (const k of ['apiVersion', 'kind', 'name', 'uid']) check(r[k], `${field}.${k}`, 'string');
          for (const k of ['controller', 'blockOwnerDeletion']) check(r[k], `${field}.${k}`, 'boolean');
        }
        return;
    }
  };
  for (const k of ['name', 'generateName', 'namespace']) check(meta[k], k, 'string');
  check(meta.labels, 'labels', 'map[string]string');
  check(meta.annotations, 'annotations', 'map[string]string');
  check(meta.finalizers, 'finalizers', '[]string');
  check(meta.ownerReferences, 'ownerReferences', '[]v1.OwnerReference');
}

/**
 * ValidateObjectMeta (name, generateName, labels, annotations, finalizers, ownerReferences) into field errors; on
 * an update (`prev` given) also ValidateObjectMetaUpdate's ValidateNoNewFinalizers while the object is deleting.
 * The immutable fields (name, namespace, uid, creationTimestamp) are carried over from `prev` by the caller.
 */
export function validateObjectMeta(t: ResourceType, meta: Record<string, any>, prev?: Record<string, any>): FieldError[] {
  const errors: FieldError[] = [];
  const bad = (field: string, value: unknown, msg: string) => errors.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${goValue(value)}: ${msg}` });
  const nameFn = nameValidator(t);
  if (typeof meta.generateName === 'string' && meta.generateName !== '') {
    for (const msg of nameFn(maskTrailingDash(meta.generateName))) bad('metadata.generateName', meta.generateName, msg);
  }
  if (typeof meta.name === 'string' && meta.name !== '') {
    for (const msg of nameFn(meta.name)) bad('metadata.name', meta.name, msg);
  }
  // ValidateLabels: keys are qualified names (ValidateLabelName), values label values.
  if (isObject(meta.labels)) {
    for (const [k, v] of Object.entries(meta.labels)) {
      for (const msg of isQualifiedName(k)) bad('metadata.labels', k, msg);
      for (const msg of isValidLabelValue(typeof v === 'string' ? v : '')) bad('metadata.labels', v, msg);
    }
  }
  // ValidateAnnotations: lower-cased keys are qualified names; all keys and values at most 256 KiB together.
  if (isObject(meta.annotations)) {
    let total = 0;
    for (const [k, v] of Object.entries(meta.annotations)) {
      for (const msg of isQualifiedName(k.toLowerCase())) bad('metadata.annotations', k, msg);
      total += Buffer.byteLength(k) + Buffer.byteLength(typeof v === 'string' ? v : '');
    }
    if (total > TOTAL_ANNOTATION_SIZE_LIMIT_B) {
      errors.push({ reason: 'FieldValueTooLong', field: 'metadata.annotations', message: `Too long: may not be more than ${TOTAL_ANNOTATION_SIZE_LIMIT_B} bytes` });
    }
  }
  // ValidateFinalizers: each a qualified name (ValidateFinalizerName), and not both orphan and foregroundDeletion.
  if (Array.isArray(meta.finalizers)) {
    for (const f of meta.finalizers) {
      if (typeof f === 'string') for (const msg of isQualifiedName(f)) bad('metadata.finalizers', f, msg);
    }
    if (meta.finalizers.includes('orphan') && meta.finalizers.includes('foregroundDeletion')) {
      bad('metadata.finalizers', meta.finalizers, 'finalizer orphan and foregroundDeletion cannot be both set');
    }
  }
  if (prev?.deletionTimestamp) {
    const old = new Set(Array.isArray(prev.finalizers) ? prev.finalizers : []);
    const extra = [...new Set(Array.isArray(meta.finalizers) ? meta.finalizers : [])].filter((f) => !old.has(f)).sort();
    if (extra.length) {
      errors.push({
        reason: 'FieldValueForbidden',
        field: 'metadata.finalizers',
        message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${extra.map((f) => JSON.stringify(f)).join(', ')}}`,
      });
    }
  }
  // ValidateOwnerReferences: apiVersion (its version), kind, name and uid must not be empty, a v1 Event owns
  // nothing (BannedOwners), and only one reference may be the controller.
  if (Array.isArray(meta.ownerReferences)) {
    let controller = '';
    for (const ref of meta.ownerReferences) {
      if (!isObject(ref)) continue;
      const r = ref as Record<string, any>;
      const version = typeof r.apiVersion === 'string' ? r.apiVersion.split('/').pop() : '';
      if (!version) bad('metadata.ownerReferences.apiVersion', r.apiVersion ?? '', 'version must not be empty');
      if (!r.kind) bad('metadata.ownerReferences.kind', r.kind ?? '', 'must not be empty');
      if (!r.name) bad('metadata.ownerReferences.name', r.name ?? '', 'must not be empty');
      if (!r.uid) bad('metadata.ownerReferences.uid', r.uid ?? '', 'must not be empty');
      if (r.apiVersion === 'v1' && r.kind === 'Event') bad('metadata.ownerReferences', r, '/v1, Kind=Event is disallowed from being an owner');
      if (r.controller === true) {
        const current = `${r.kind}/${r.name}`;
        if (controller) {
          bad('metadata.ownerReferences', meta.ownerReferences, `Only one reference can have Controller set to true. Found "true" in references for ${controller} and ${current}`);
        } else controller = current;
      }
    }
  }
  return errors;
}
