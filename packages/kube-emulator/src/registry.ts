/**
 * The resource registry: one entry per served group/version/resource. Routing, discovery, OpenAPI and Table
 * output all read from it, so a CRD that becomes Established shows up everywhere at once, and disappears
 * everywhere when it is deleted.
 */
import { COMMON_FIELDS, type FieldGetter } from './selectors.js';

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

export interface ResourceType {
  group: string;
  version: string;
  /** The plural, lowercase resource name used in URLs. */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** True when `/status` is a subresource: the main resource then ignores `.status`. */
  statusSubresource: boolean;
  /** The `/scale` subresource mapping, when the type has one. */
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  /** True for types that carry `metadata.generation` (CRs, apps/v1). */
  hasGeneration: boolean;
  /** CRs (and CRD-backed built-ins such as HTTPRoute): no strategic merge patch, PUT requires a resourceVersion. */
  custom: boolean;
  /** The OpenAPI v3 schema of the whole object (CRDs: `openAPIV3Schema`). */
  schema?: any;
  printerColumns?: PrinterColumn[];
  /** Extra field selectors beyond metadata.name / metadata.namespace. */
  fieldSelectors: Record<string, FieldGetter>;
  /** DELETE replies with the deleted object instead of a Success Status (Pods, ServiceAccounts). */
  deleteReturnsObject: boolean;
  /** The storage key shared by all versions of the same group/resource. */
  storageKey: string;
  /** The name of the CRD that defines this type, if any. */
  crdName?: string;
  /** OpenAPI component name, e.g. `ai.sympozium.v1alpha1.SympoziumInstance`. */
  definitionName: string;
}

export function apiVersionOf(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** `sympozium.ai` -> `ai.sympozium`; the core group is `io.k8s.api.core`. */
function definitionPrefix(group: string): string {
  if (group === '') return 'io.k8s.api.core';
  const builtinGroups: Record<string, string> = {
    apps: 'io.k8s.api.apps',
    'apiextensions.k8s.io': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions',
    'authorization.k8s.io': 'io.k8s.api.authorization',
    'authentication.k8s.io': 'io.k8s.api.authentication',
  };
  return builtinGroups[group] ?? group.split('.').reverse().join('.');
}

export function makeType(partial: Partial<ResourceType> & Pick<ResourceType, 'group' | 'version' | 'resource' | 'kind' | 'namespaced'>): ResourceType {
  const t: ResourceType = {
    singular: partial.kind.toLowerCase(),
    listKind: `${partial.kind}List`,
    shortNames: [],
    categories: [],
    verbs: ALL_VERBS,
    statusSubresource: false,
    hasGeneration: false,
    custom: false,
    fieldSelectors: {},
    deleteReturnsObject: false,
    storageKey: `${partial.group}/${partial.resource}`,
    definitionName: `${definitionPrefix(partial.group)}.${partial.version}.${partial.kind}`,
    ...partial,
  } as ResourceType;
  t.fieldSelectors = { ...COMMON_FIELDS, ...t.fieldSelectors };
  return t;
}

/** All served types, indexed the ways requests look them up. */
export class Registry {
  private readonly byGVR = new Map<string, ResourceType>();
  private listeners: Array<() => void> = [];
  /** Bumped on every change; discovery and OpenAPI caches key on it. */
  generation = 0;

  add(t: ResourceType): void {
    this.byGVR.set(`${t.group}/${t.version}/${t.resource}`, t);
    this.changed();
  }

  remove(group: string, version: string, resource: string): void {
    if (this.byGVR.delete(`${group}/${version}/${resource}`)) this.changed();
  }

  /** Removes every version a CRD served. */
  removeCrd(crdName: string): ResourceType[] {
    const removed = [...this.byGVR.values()].filter((t) => t.crdName === crdName);
    for (const t of removed) this.byGVR.delete(`${t.group}/${t.version}/${t.resource}`);
    if (removed.length) this.changed();
    return removed;
  }

  get(group: string, version: string, resource: string): ResourceType | undefined {
    return this.byGVR.get(`${group}/${version}/${resource}`);
  }

  all(): ResourceType[] {
    return [...this.byGVR.values()];
  }

  /** Group name -> ordered versions (the first is preferred). */
  groups(): Map<string, string[]> {
    const groups = new Map<string, string[]>();
    for (const t of this.byGVR.values()) {
      const versions = groups.get(t.group) ?? [];
      if (!versions.includes(t.version)) versions.push(t.version);
      groups.set(t.group, versions);
    }
    for (const versions of groups.values()) versions.sort(compareKubeVersions);
    return groups;
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return [...this.byGVR.values()].filter((t) => t.group === group && t.version === version);
  }

  /** Types sharing a storage key (all versions of one resource). */
  byStorageKey(storageKey: string): ResourceType[] {
    return [...this.byGVR.values()].filter((t) => t.storageKey === storageKey);
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    this.generation++;
    for (const l of this.listeners) l();
  }
}

/** Kubernetes version priority: GA > beta > alpha, higher numbers first (v1 > v1beta2 > v1beta1 > v1alpha1). */
function compareKubeVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0];
    const stage = m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1;
    return [stage, Number(m[1]), Number(m[3] ?? 0)];
  };
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return rb[i]! - ra[i]!;
  return a.localeCompare(b);
}
