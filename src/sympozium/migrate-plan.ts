import type { PathSegment } from './manifests.js';
import { formatPath, isPlainObject } from './schema-check.js';
import { group } from './types.js';

// The mapping of `sympozium migrate` (migrate.ts says how it is used): v0.5.8's names and their v0.10.46
// replacements as data, each citing where upstream made the change, and the list of changes for one object.

export const sourceRelease = 'v0.5.8';
export const targetRelease = 'v0.10.46';
/** The only version either release serves. */
const apiVersion = `${group}/v1alpha1`;

/**
 * Kinds renamed; the apiVersion stays. Upstream commits 432355b "rename PersonaPack to Ensemble" and df230ee
 * "rename Instance→Agent, Persona→AgentConfig across entire codebase": api/v1alpha1/sympoziuminstance_types.go
 * became agent_types.go, personapack_types.go became ensemble_types.go (CLAUDE.md at 8b74fa0: "The CRD kind is
 * Agent (formerly SympoziumInstance — do not use)").
 */
export const kindRenames: Readonly<Record<string, string>> = {
  SympoziumInstance: 'Agent',
  PersonaPack: 'Ensemble',
};

/**
 * Fields renamed, by the v0.5.8 kind holding them (df230ee: "instanceRef → agentRef (in AgentRun, Schedule
 * specs)", "spec.personas[] → spec.agentConfigs[]"; api/v1alpha1/agentrun_types.go, sympoziumschedule_types.go
 * and ensemble_types.go at 8b74fa0, json tags agentRef and agentConfigs). Ensemble keeps the json name
 * excludePersonas (ensemble_types.go: ExcludeAgentConfigs `json:"excludePersonas"`), so it is not listed.
 */
const fieldRenames: readonly { kind: string; path: readonly string[]; to: string }[] = [
  { kind: 'AgentRun', path: ['spec', 'instanceRef'], to: 'agentRef' },
  { kind: 'SympoziumSchedule', path: ['spec', 'instanceRef'], to: 'agentRef' },
  { kind: 'PersonaPack', path: ['spec', 'personas'], to: 'agentConfigs' },
];

/**
 * Label keys the controllers read, renamed with the kinds (432355b: "Labels: sympozium.ai/persona-pack →
 * sympozium.ai/ensemble"; df230ee renamed sympozium.ai/persona to sympozium.ai/agent-config). v0.5.8's
 * internal/controller/personapack_controller.go stamps them on the instances and schedules it creates and
 * lists those by them; v0.10.46's ensemble_controller.go, agentrun_controller.go and toolpolicy/resolve.go read
 * the new keys, so an Agent keeping the old ones would no longer belong to its Ensemble. Renamed on Sympozium
 * documents only: other documents pass through untouched.
 */
const labelKeyRenames: Readonly<Record<string, string>> = {
  'sympozium.ai/persona-pack': 'sympozium.ai/ensemble',
  'sympozium.ai/persona': 'sympozium.ai/agent-config',
};

/**
 * Finalizers renamed with the controller that removes them (personapack_controller.go's
 * "sympozium.ai/personapack-finalizer" is ensemble_controller.go's "sympozium.ai/ensemble-finalizer"): one
 * nothing removes would block the object's deletion for ever.
 */
const finalizerRenames: Readonly<Record<string, string>> = {
  'sympozium.ai/personapack-finalizer': 'sympozium.ai/ensemble-finalizer',
};

/**
 * RBAC resources of renamed kinds, in the rules a SkillPack grants its sidecar (spec.sidecar.rbac[] and
 * clusterRBAC[]) for the sympozium.ai group: v0.10.46 serves no sympoziuminstances, so a rule naming them grants
 * nothing. Upstream's v0.10.46 Helm chart (charts/sympozium/files/skills/web-endpoint.yaml, the copy it
 * installs) grants "agents" where v0.5.8's web-endpoint granted "sympoziuminstances" (its config/skills copy was
 * left stale). Subresources follow: sympoziuminstances/status becomes agents/status.
 */
const rbacResourceRenames: Readonly<Record<string, string>> = {
  sympoziuminstances: 'agents',
  personapacks: 'ensembles',
};
const rbacRuleLists: readonly { kind: string; path: readonly string[] }[] = [
  { kind: 'SkillPack', path: ['spec', 'sidecar', 'rbac'] },
  { kind: 'SkillPack', path: ['spec', 'sidecar', 'clusterRBAC'] },
];

/** One edit, addressed by its path in the input document. */
export type Change =
  /** The key at `path` (its last segment) becomes `to`. */
  | { op: 'rename-key'; path: PathSegment[]; to: string }
  /** The string at `path` becomes `to`. */
  | { op: 'set-value'; path: PathSegment[]; from: string; to: string };

export interface Plan {
  changes: Change[];
  /** Values with no home in v0.10.46, found while planning (the rest come from validating the result). */
  problems: { path: PathSegment[]; at: 'key' | 'value'; message: string }[];
}

/** Whether the mapping concerns this object at all: the Sympozium group's only version. */
export function isSympoziumObject(object: Record<string, unknown>): boolean {
  return object.apiVersion === apiVersion && typeof object.kind === 'string';
}

/** The changes that make a v0.5.8 object a v0.10.46 one; none for a v0.10.46 object or any other kind. */
export function planMigration(object: Record<string, unknown>): Plan {
  const plan: Plan = { changes: [], problems: [] };
  if (!isSympoziumObject(object)) return plan;
  const kind = object.kind as string;
  const renamedKind = kindRenames[kind];
  if (renamedKind) plan.changes.push({ op: 'set-value', path: ['kind'], from: kind, to: renamedKind });

  for (const rename of fieldRenames) {
    if (rename.kind !== kind) continue;
    const parentPath = rename.path.slice(0, -1);
    renameKey(plan, valueAt(object, parentPath), parentPath, rename.path.at(-1)!, rename.to);
  }

  const metadata = object.metadata;
  if (isPlainObject(metadata)) {
    if (isPlainObject(metadata.labels)) {
      for (const [from, to] of Object.entries(labelKeyRenames)) renameKey(plan, metadata.labels, ['metadata', 'labels'], from, to);
    }
    if (Array.isArray(metadata.finalizers)) {
      renameListValues(plan, metadata.finalizers, ['metadata', 'finalizers'], (value) => finalizerRenames[value]);
    }
    if (Array.isArray(metadata.ownerReferences)) {
      metadata.ownerReferences.forEach((reference, index) => {
        if (!isPlainObject(reference) || reference.apiVersion !== apiVersion || typeof reference.kind !== 'string') return;
        const to = kindRenames[reference.kind];
        if (to) plan.changes.push({ op: 'set-value', path: ['metadata', 'ownerReferences', index, 'kind'], from: reference.kind, to });
      });
    }
  }

  for (const list of rbacRuleLists) {
    if (list.kind !== kind) continue;
    const rules = valueAt(object, list.path);
    if (!Array.isArray(rules)) continue;
    rules.forEach((rule, index) => {
      if (!isPlainObject(rule) || !Array.isArray(rule.apiGroups) || !Array.isArray(rule.resources)) return;
      if (!rule.apiGroups.some((name) => name === group || name === '*')) return;
      renameListValues(plan, rule.resources, [...list.path, index, 'resources'], (value) => {
        const [resource, ...subresource] = value.split('/');
        const to = rbacResourceRenames[resource!];
        return to && [to, ...subresource].join('/');
      }, { duplicatesAllowed: true });
    });
  }
  return plan;
}

function valueAt(object: unknown, path: readonly PathSegment[]): unknown {
  let current = object;
  for (const segment of path) {
    if (typeof segment === 'number' ? !Array.isArray(current) : !isPlainObject(current)) return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

function renameKey(plan: Plan, parent: unknown, parentPath: readonly PathSegment[], from: string, to: string): void {
  if (!isPlainObject(parent) || !Object.hasOwn(parent, from)) return;
  const path = [...parentPath, from];
  if (Object.hasOwn(parent, to)) {
    plan.problems.push({
      path,
      at: 'key',
      message: `no home in ${targetRelease} (it becomes ${formatPath([...parentPath, to])}, which is set too: keep one of them)`,
    });
    return;
  }
  plan.changes.push({ op: 'rename-key', path, to });
}

function renameListValues(
  plan: Plan,
  list: unknown[],
  listPath: PathSegment[],
  rename: (value: string) => string | undefined,
  options: { duplicatesAllowed?: boolean } = {},
): void {
  list.forEach((value, index) => {
    if (typeof value !== 'string') return;
    const to = rename(value);
    if (!to) return;
    if (!options.duplicatesAllowed && list.includes(to)) {
      plan.problems.push({ path: [...listPath, index], at: 'value', message: `no home in ${targetRelease} (it becomes "${to}", which is listed too: keep one of them)` });
      return;
    }
    plan.changes.push({ op: 'set-value', path: [...listPath, index], from: value, to });
  });
}

/** The object with the changes made, keys kept in their order (a renamed key keeps its place). */
export function applyToObject<T extends Record<string, unknown>>(object: T, changes: readonly Change[]): T {
  const result = structuredClone(object);
  // Values first: their paths are the input's, and a renamed key above them would move them.
  for (const change of changes) {
    if (change.op !== 'set-value') continue;
    const parent = valueAt(result, change.path.slice(0, -1)) as Record<string | number, unknown>;
    parent[change.path.at(-1)!] = change.to;
  }
  for (const change of [...changes].filter((c) => c.op === 'rename-key').sort((a, b) => b.path.length - a.path.length)) {
    const parentPath = change.path.slice(0, -1);
    const parent = valueAt(result, parentPath) as Record<string, unknown>;
    const from = change.path.at(-1) as string;
    const renamed = Object.fromEntries(Object.entries(parent).map(([key, value]) => [key === from ? change.to : key, value]));
    if (parentPath.length === 0) return renamed as T;
    (valueAt(result, parentPath.slice(0, -1)) as Record<string | number, unknown>)[parentPath.at(-1)!] = renamed;
  }
  return result;
}
