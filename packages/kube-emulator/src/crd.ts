/**
 * CustomResourceDefinitions: server defaults and validation on write, the Established status, and the
 * translation of a CRD into the registry entries that serve its custom resources.
 */
import { goValue, type FieldError } from './errors.js';
import { isObject } from './patch.js';
import { makeType, type ResourceType } from './registry.js';
import type { FieldGetter } from './selectors.js';

export const CRD_STORAGE_KEY = 'apiextensions.k8s.io/customresourcedefinitions';

/** Fills in the defaults a real API server adds to a CRD (names.singular, listKind, conversion). Mutates. */
export function defaultCrd(crd: any): void {
  const spec = (crd.spec ??= {});
  const names = (spec.names ??= {});
  if (typeof names.kind === 'string') {
    names.singular ??= names.kind.toLowerCase();
    names.listKind ??= `${names.kind}List`;
  }
  spec.conversion ??= { strategy: 'None' };
  if (Array.isArray(spec.versions)) {
    for (const v of spec.versions) {
      if (!isObject(v)) continue;
      if (Array.isArray(v.additionalPrinterColumns)) {
        for (const c of v.additionalPrinterColumns) if (isObject(c)) c.priority ??= 0;
      }
    }
  }
}

export function validateCrd(crd: any): FieldError[] {
  const errs: FieldError[] = [];
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  if (!spec.group) errs.push({ reason: 'FieldValueRequired', field: 'spec.group', message: 'Required value' });
  if (!names.plural) errs.push({ reason: 'FieldValueRequired', field: 'spec.names.plural', message: 'Required value' });
  if (!names.kind) errs.push({ reason: 'FieldValueRequired', field: 'spec.names.kind', message: 'Required value' });
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
    errs.push({ reason: 'FieldValueNotSupported', field: 'spec.scope', message: `Unsupported value: ${goValue(spec.scope ?? '')}: supported values: "Cluster", "Namespaced"` });
  }
  if (names.plural && spec.group && crd.metadata?.name !== `${names.plural}.${spec.group}`) {
    errs.push({ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: ${goValue(crd.metadata?.name)}: must be spec.names.plural+"."+spec.group` });
  }
  const versions: any[] = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0) errs.push({ reason: 'FieldValueRequired', field: 'spec.versions', message: 'Required value: must have exactly one version marked as storage version' });
  else if (versions.filter((v) => v?.storage === true).length !== 1) {
    errs.push({ reason: 'FieldValueInvalid', field: 'spec.versions', message: `Invalid value: ${JSON.stringify(versions.map((v) => v?.name))}: must have exactly one version marked as storage version` });
  }
  versions.forEach((v, i) => {
    if (!v?.name) errs.push({ reason: 'FieldValueRequired', field: `spec.versions[${i}].name`, message: 'Required value' });
    if (!isObject(v?.schema?.openAPIV3Schema)) {
      errs.push({ reason: 'FieldValueRequired', field: `spec.versions[${i}].schema.openAPIV3Schema`, message: 'Required value: schemas are required' });
    }
  });
  return errs;
}

export function establishedStatus(crd: any, now: string): Record<string, unknown> {
  const names = crd.spec.names;
  const accepted: Record<string, unknown> = { kind: names.kind, listKind: names.listKind, plural: names.plural, singular: names.singular };
  if (Array.isArray(names.shortNames)) accepted.shortNames = names.shortNames;
  if (Array.isArray(names.categories)) accepted.categories = names.categories;
  const storage = (crd.spec.versions as any[]).find((v) => v.storage)?.name;
  const previous: string[] = Array.isArray(crd.status?.storedVersions) ? crd.status.storedVersions : [];
  return {
    acceptedNames: accepted,
    conditions: [
      { type: 'NamesAccepted', status: 'True', lastTransitionTime: now, reason: 'NoConflicts', message: 'no conflicts found' },
      { type: 'Established', status: 'True', lastTransitionTime: now, reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
    ],
    storedVersions: previous.includes(storage) ? previous : [...previous, storage],
  };
}

export function isEstablished(crd: any): boolean {
  const conditions: any[] = crd?.status?.conditions ?? [];
  return conditions.some((c) => c?.type === 'Established' && c?.status === 'True');
}

/** The registry entries a CRD serves: one per served version, all sharing one storage key. */
export function typesForCrd(crd: any): ResourceType[] {
  const spec = crd.spec;
  const names = spec.names;
  return (spec.versions as any[])
    .filter((v) => v.served !== false)
    .map((v) => {
      const fieldSelectors: Record<string, FieldGetter> = {};
      for (const f of Array.isArray(v.selectableFields) ? v.selectableFields : []) {
        const path = String(f.jsonPath ?? '').replace(/^\./, '');
        if (!path) continue;
        fieldSelectors[path] = (o) => {
          let cur: any = o;
          for (const part of path.split('.')) cur = cur?.[part];
          return cur === undefined || cur === null ? undefined : String(cur);
        };
      }
      return makeType({
        group: spec.group,
        version: v.name,
        resource: names.plural,
        singular: names.singular,
        kind: names.kind,
        listKind: names.listKind,
        namespaced: spec.scope === 'Namespaced',
        shortNames: names.shortNames ?? [],
        categories: names.categories ?? [],
        statusSubresource: isObject(v.subresources?.status),
        scale: isObject(v.subresources?.scale) && typeof v.subresources.scale.specReplicasPath === 'string'
          ? {
              specReplicasPath: v.subresources.scale.specReplicasPath,
              statusReplicasPath: v.subresources.scale.statusReplicasPath ?? '.status.replicas',
              labelSelectorPath: v.subresources.scale.labelSelectorPath,
            }
          : undefined,
        hasGeneration: true,
        custom: true,
        schema: v.schema?.openAPIV3Schema,
        printerColumns: Array.isArray(v.additionalPrinterColumns) ? v.additionalPrinterColumns : undefined,
        fieldSelectors,
        crdName: crd.metadata.name,
      });
    });
}
