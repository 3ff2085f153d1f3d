import type { PathSegment } from './manifests.js';
import { isPlainObject, type Finding } from './schema-check.js';

/**
 * The ObjectMeta rules the API server applies itself (apimachinery's ValidateObjectMeta), which no CRD schema can
 * express: name a DNS-1123 subdomain, namespace a DNS label, qualified label and annotation keys, label values,
 * qualified finalizer names, and the 256 KiB cap on all annotations together.
 */

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const qualifiedName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const totalAnnotationBytes = 256 * 1024;

/** Why a label or annotation key is not a qualified name, or undefined when it is one. */
function keyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const [prefix, name] = slash >= 0 ? [key.slice(0, slash), key.slice(slash + 1)] : [undefined, key];
  if (prefix !== undefined) {
    if (prefix.length === 0) return 'has an empty prefix before "/"';
    if (prefix.length > 253 || !dnsSubdomain.test(prefix)) return 'has a prefix that is not a DNS subdomain (lowercase letters, digits, - and .)';
  }
  if (name.length === 0) return 'has an empty name';
  if (name.length > 63) return 'has a name longer than 63 characters';
  if (!qualifiedName.test(name)) return 'must be letters, digits, -, _ and . and begin and end with a letter or digit';
  return undefined;
}

/**
 * apimachinery's maskTrailingDash, quirk included (it drops the last two characters, then appends "a"): a
 * generated suffix follows generateName, so a trailing "-" there is no fault.
 */
function maskTrailingDash(value: string): string {
  return value.length > 1 && value.endsWith('-') ? `${value.slice(0, -2)}a` : value;
}

export function checkObjectMeta(metadata: unknown, path: PathSegment[], findings: Finding[]): void {
  if (!isPlainObject(metadata)) return;
  const error = (at: PathSegment[], message: string, where: 'key' | 'value' = 'value') =>
    findings.push({ path: at, at: where, message, severity: 'error' });
  const { generateName, labels, annotations, finalizers } = metadata;
  // name and namespace are checked by the objectMeta schema (pattern, maxLength); generateName only here.
  if (typeof generateName === 'string' && generateName !== '') {
    const masked = maskTrailingDash(generateName);
    if (masked.length > 253 || !dnsSubdomain.test(masked)) {
      error([...path, 'generateName'], 'must be a prefix of a valid name (lowercase letters, digits, - and .)');
    }
  }
  if (Array.isArray(finalizers)) {
    finalizers.forEach((finalizer, index) => {
      // ValidateFinalizerName: a qualified name, like a label key.
      const problem = typeof finalizer === 'string' ? keyProblem(finalizer) : undefined;
      if (problem) error([...path, 'finalizers', index], `finalizer ${problem}`);
    });
  }
  if (isPlainObject(labels)) {
    for (const [key, value] of Object.entries(labels)) {
      const problem = keyProblem(key);
      if (problem) error([...path, 'labels', key], `label key ${problem}`, 'key');
      if (typeof value !== 'string') continue;
      if (value.length > 63) error([...path, 'labels', key], 'label value must be at most 63 characters long');
      else if (value !== '' && !qualifiedName.test(value)) {
        error([...path, 'labels', key], 'label value must be letters, digits, -, _ and ., beginning and ending with a letter or digit');
      }
    }
  }
  if (isPlainObject(annotations)) {
    let bytes = 0;
    for (const [key, value] of Object.entries(annotations)) {
      const problem = keyProblem(key.toLowerCase());
      if (problem) error([...path, 'annotations', key], `annotation key ${problem}`, 'key');
      bytes += Buffer.byteLength(key) + (typeof value === 'string' ? Buffer.byteLength(value) : 0);
    }
    if (bytes > totalAnnotationBytes) error([...path, 'annotations'], `annotations may total at most 256 KiB, not ${bytes} bytes`);
  }
}
