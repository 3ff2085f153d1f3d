/**
 * The handful of built-in validation rules a CLI is likely to trip over, with upstream's field paths and
 * messages: Deployment selectors (required, matching the template, immutable), containers and images, Service
 * ports, and immutable Secrets/ConfigMaps. Everything else about built-ins is accepted as sent.
 */
import type { FieldError } from './errors.js';
import { deepEqual, isObject } from './patch.js';

/** Go's `%#v` of a map[string]string, which upstream prints in these messages. */
function goStringMap(m: Record<string, unknown> | undefined): string {
  if (!m || Object.keys(m).length === 0) return 'map[string]string(nil)';
  const entries = Object.keys(m)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(m[k]))}`);
  return `map[string]string{${entries.join(', ')}}`;
}

function goLabelSelector(sel: any): string {
  const labels = isObject(sel?.matchLabels) ? goStringMap(sel.matchLabels) : 'map[string]string(nil)';
  const exprs = Array.isArray(sel?.matchExpressions) && sel.matchExpressions.length ? '[]v1.LabelSelectorRequirement{...}' : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${exprs}}`;
}

function containerErrors(spec: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const containers: unknown = spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    errs.push({ reason: 'FieldValueRequired', field: `${path}.containers`, message: 'Required value' });
    return errs;
  }
  containers.forEach((c: any, i: number) => {
    if (!c?.name) errs.push({ reason: 'FieldValueRequired', field: `${path}.containers[${i}].name`, message: 'Required value' });
    if (!c?.image) errs.push({ reason: 'FieldValueRequired', field: `${path}.containers[${i}].image`, message: 'Required value' });
  });
  return errs;
}

export function validateBuiltin(obj: any, prev: any | undefined): FieldError[] {
  const errs: FieldError[] = [];
  switch (obj.kind) {
    case 'Deployment': {
      const spec = obj.spec ?? {};
      const selector = spec.selector;
      if (!isObject(selector) || (!isObject(selector.matchLabels) && !Array.isArray(selector.matchExpressions))) {
        errs.push({ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' });
      } else {
        const labels: Record<string, unknown> = spec.template?.metadata?.labels ?? {};
        const matches = Object.entries(isObject(selector.matchLabels) ? selector.matchLabels : {}).every(([k, v]) => labels[k] === v);
        if (!matches) {
          errs.push({ reason: 'FieldValueInvalid', field: 'spec.template.metadata.labels', message: `Invalid value: ${goStringMap(labels)}: \`selector\` does not match template \`labels\`` });
        }
        if (prev && !deepEqual(prev.spec?.selector, selector)) {
          errs.push({ reason: 'FieldValueInvalid', field: 'spec.selector', message: `Invalid value: ${goLabelSelector(selector)}: field is immutable` });
        }
      }
      errs.push(...containerErrors(spec.template?.spec, 'spec.template.spec'));
      break;
    }
    case 'Pod':
      errs.push(...containerErrors(obj.spec, 'spec'));
      break;
    case 'Service': {
      const ports: unknown = obj.spec?.ports;
      if (obj.spec?.type !== 'ExternalName' && obj.spec?.clusterIP !== 'None' && (!Array.isArray(ports) || ports.length === 0)) {
        errs.push({ reason: 'FieldValueRequired', field: 'spec.ports', message: 'Required value' });
      }
      if (Array.isArray(ports)) {
        ports.forEach((p: any, i: number) => {
          if (!Number.isInteger(p?.port) || p.port < 1 || p.port > 65535) {
            errs.push({ reason: 'FieldValueInvalid', field: `spec.ports[${i}].port`, message: `Invalid value: ${p?.port ?? 0}: must be between 1 and 65535, inclusive` });
          }
        });
      }
      if (prev?.spec?.clusterIP && obj.spec?.clusterIP && prev.spec.clusterIP !== obj.spec.clusterIP) {
        errs.push({ reason: 'FieldValueInvalid', field: 'spec.clusterIPs[0]', message: `Invalid value: []string{${JSON.stringify(obj.spec.clusterIP)}}: may not change once set` });
      }
      break;
    }
    case 'Secret':
    case 'ConfigMap': {
      if (prev?.immutable === true) {
        const fields = obj.kind === 'Secret' ? ['data'] : ['data', 'binaryData'];
        for (const f of fields) {
          if (!deepEqual(prev[f] ?? {}, obj[f] ?? {})) errs.push({ reason: 'FieldValueForbidden', field: f, message: 'Forbidden: field is immutable when `immutable` is set' });
        }
        if (obj.immutable !== true) errs.push({ reason: 'FieldValueForbidden', field: 'immutable', message: 'Forbidden: field is immutable when `immutable` is set' });
      }
      break;
    }
    default:
      break;
  }
  return errs;
}
