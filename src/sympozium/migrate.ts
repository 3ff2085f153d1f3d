import { isAlias, isMap, isScalar, isSeq, type Document, type Node, type Pair, type Scalar } from 'yaml';
import { parseManifests } from './manifest-parse.js';
import type { ManifestDocument, PathSegment, Problem } from './manifests.js';
import { releaseData } from './releases.js';
import { formatPath, isPlainObject } from './schema-check.js';
import { group } from './types.js';
import { validateDocuments } from './validate.js';

/**
 * `sympozium migrate`: v0.5.8 manifests to v0.10.46. The mapping is data (the tables below, each citing where
 * upstream made the change), applied twice from one list of changes: to the parsed object (what the result
 * must mean) and to the text itself, token by token, so comments, key order, quoting and layout survive and a
 * document with nothing to change keeps its bytes. The text is then read again and must mean exactly that
 * object, and is judged by v0.10.46's CRDs, before the caller writes anything.
 *
 * The two releases' CRDs (src/sympozium/upstream-schemas/<release>/crds, from upstream's config/crd/bases at
 * 4a6f5f1 and 8b74fa0) differ, for what v0.5.8 documents can hold, only by the renames below: every other
 * v0.5.8 field exists in v0.10.46 with the same type, enum and default (v0.10.46 only adds fields and relaxes
 * SkillPack's sidecar.env[].value to optional, and AgentRun's task to any shape). So a value of a valid v0.5.8
 * document always has a home; one that has none (a field neither release knows, a renamed field given under
 * both names) is a problem naming it, never dropped.
 */

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
function isSympoziumObject(object: Record<string, unknown>): boolean {
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

/** A replacement of the source text between two offsets. */
interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * The changes as edits of the text: each renamed key or value is one scalar token, replaced by the new name in
 * the same quoting. Returns a problem instead when a token cannot be edited on its own (an alias, a merge key,
 * a block scalar): rewriting it would change other places too, or need a reformat.
 */
function editsFor(doc: Document.Parsed, changes: readonly Change[]): { edits: Edit[] } | { problem: { path: PathSegment[]; message: string } } {
  const edits: Edit[] = [];
  for (const change of changes) {
    const found = scalarAt(doc, change.path, change.op === 'rename-key' ? 'key' : 'value');
    if ('reason' in found) {
      return { problem: { path: change.path, message: `cannot be changed in place: ${found.reason}; write it out plainly and run migrate again` } };
    }
    const [start, end] = found.scalar.range!;
    edits.push({ start, end, text: quoted(change.to, found.scalar) });
  }
  edits.sort((a, b) => a.start - b.start);
  return { edits };
}

function scalarAt(doc: Document.Parsed, path: readonly PathSegment[], at: 'key' | 'value'): { scalar: Scalar } | { reason: string } {
  let node: unknown = doc.contents;
  let pair: Pair | undefined;
  for (const [depth, segment] of path.entries()) {
    if (isAlias(node)) return { reason: `${formatPath(path.slice(0, depth)) || 'the document'} is a YAML alias` };
    if (isMap(node)) {
      pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment)) as Pair | undefined;
      if (!pair) return { reason: 'it comes from a YAML merge key (<<)' };
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      pair = undefined;
      node = node.items[segment];
    } else return { reason: 'its place in the document could not be found' };
  }
  const target = at === 'key' ? (pair?.key as Node | undefined) : (node as Node | undefined);
  if (isAlias(target)) return { reason: 'it is a YAML alias' };
  if (!isScalar(target) || !target.range) return { reason: 'it is not a plain scalar' };
  if (target.type !== 'PLAIN' && target.type !== 'QUOTE_SINGLE' && target.type !== 'QUOTE_DOUBLE') return { reason: 'it is a block scalar' };
  return { scalar: target };
}

/** The new name written as the old one was: plain, 'single' or "double" quoted. */
function quoted(to: string, scalar: Scalar): string {
  if (scalar.type === 'QUOTE_SINGLE') return `'${to.replace(/'/g, "''")}'`;
  if (scalar.type === 'QUOTE_DOUBLE') return JSON.stringify(to);
  return to;
}

function applyEdits(text: string, edits: readonly Edit[]): string {
  let result = '';
  let from = 0;
  for (const edit of edits) {
    result += text.slice(from, edit.start) + edit.text;
    from = edit.end;
  }
  return result + text.slice(from);
}

/** Where an offset of the edited text was in the original: inside a replaced token, at the token's start. */
function originalOffset(offset: number, edits: readonly Edit[]): number {
  let shift = 0;
  for (const edit of edits) {
    const start = edit.start + shift;
    if (offset < start) break;
    if (offset < start + edit.text.length) return edit.start;
    shift += edit.text.length - (edit.end - edit.start);
  }
  return offset - shift;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let index = text.indexOf('\n'); index >= 0; index = text.indexOf('\n', index + 1)) starts.push(index + 1);
  return starts;
}

function offsetOf(starts: number[], line: number, column: number): number {
  return (starts[line - 1] ?? 0) + Math.max(column - 1, 0);
}

function positionOf(starts: number[], offset: number): { line: number; column: number } {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle]! <= offset) low = middle;
    else high = middle - 1;
  }
  return { line: low + 1, column: offset - starts[low]! + 1 };
}

/** What migrate did to one document, for the summary (and `-o json`). */
export interface DocumentReport {
  source: string;
  index: number;
  line: number;
  apiVersion?: string;
  kind?: string;
  name?: string;
  /** The v0.10.46 kind, when it is another. */
  migratedKind?: string;
  /** Each change, e.g. `spec.instanceRef -> spec.agentRef`; empty when the document passed through. */
  changes: string[];
}

export interface FileMigration {
  /** The migrated text; the input's own bytes when nothing changed. */
  text: string;
  documents: DocumentReport[];
  problems: Problem[];
}

function describeChange(change: Change): string {
  if (change.op === 'rename-key') return `${formatPath(change.path)} -> ${formatPath([...change.path.slice(0, -1), change.to])}`;
  return `${formatPath(change.path)}: ${change.from} -> ${change.to}`;
}

function documentName(object: Record<string, unknown>): string | undefined {
  return isPlainObject(object.metadata) && typeof object.metadata.name === 'string' ? object.metadata.name : undefined;
}

/**
 * Migrates one file's text (its documents as parseManifests read them, with their YAML nodes). Problems carry
 * the input's positions; when there are any, the text must not be written.
 */
export function migrateFile(source: string, text: string, documents: readonly ManifestDocument[]): FileMigration {
  const problems: Problem[] = [];
  const reports: DocumentReport[] = [];
  const edits: Edit[] = [];
  const expected = new Map<number, Record<string, unknown>>();
  /** Paths already reported per document (values with no home), and documents that could not be edited. */
  const reported = new Map<number, Set<string>>();
  const unjudged = new Set<number>();
  const inputStarts = lineStarts(text);
  const problemAt = (document: ManifestDocument, path: PathSegment[], at: 'key' | 'value', message: string): Problem => ({
    source,
    ...(document.locate?.position(path, at) ?? { line: document.line, column: document.column }),
    path: formatPath(path),
    message,
    severity: 'error',
  });

  for (const document of documents) {
    const object = document.object;
    const plan = planMigration(object);
    const report: DocumentReport = {
      source,
      index: document.index,
      line: document.line,
      ...(typeof object.apiVersion === 'string' ? { apiVersion: object.apiVersion } : {}),
      ...(typeof object.kind === 'string' ? { kind: object.kind } : {}),
      ...(documentName(object) ? { name: documentName(object) } : {}),
      changes: plan.changes.map(describeChange),
    };
    const kindChange = plan.changes.find((change) => change.op === 'set-value' && change.path.length === 1 && change.path[0] === 'kind');
    if (kindChange) report.migratedKind = (kindChange as { to: string }).to;
    reports.push(report);
    // A value with no home is reported, and the rest of the document is still migrated and judged (never
    // written), so that one run lists every problem; v0.10.46's verdict on that very value is left out.
    for (const problem of plan.problems) problems.push(problemAt(document, problem.path, problem.at, problem.message));
    if (plan.problems.length > 0) reported.set(document.index, new Set(plan.problems.map((problem) => formatPath(problem.path))));
    if (plan.changes.length === 0) continue;
    if (!document.yaml) throw new Error(`migrate: ${source} document ${document.index} has no YAML nodes`);
    const planned = editsFor(document.yaml, plan.changes);
    if ('problem' in planned) {
      problems.push(problemAt(document, planned.problem.path, 'key', planned.problem.message));
      unjudged.add(document.index);
      continue;
    }
    edits.push(...planned.edits);
    expected.set(document.index, applyToObject(object, plan.changes));
  }

  edits.sort((a, b) => a.start - b.start);
  const migrated = applyEdits(text, edits);
  // Read the result back as any reader will, and judge it: it must mean exactly the planned object, and
  // v0.10.46's CRDs must accept every Sympozium document in it.
  const reread = parseManifests(migrated, source);
  const outputStarts = lineStarts(migrated);
  const toInput = (line: number, column: number) => positionOf(inputStarts, originalOffset(offsetOf(outputStarts, line, column), edits));
  const readProblems = reread.problems.filter((problem) => problem.code !== 'not-an-object');
  if (readProblems.length > 0) {
    throw new Error(`migrate produced text that does not read back (${readProblems[0]!.message}) in ${source}`);
  }
  const inputByIndex = new Map(documents.map((document) => [document.index, document]));
  for (const output of reread.documents) {
    const input = inputByIndex.get(output.index);
    if (!input) throw new Error(`migrate: document ${output.index} of ${source} appeared from nowhere`);
    const want = expected.get(output.index) ?? input.object;
    if (!deepEqual(output.object, want)) {
      problems.push({
        source,
        line: input.line,
        column: input.column,
        path: '',
        message: 'cannot be changed in place: YAML anchors, aliases or merge keys share the values to rename; expand them and run migrate again',
        severity: 'error',
      });
      continue;
    }
    if (!isSympoziumGroup(output.object) || unjudged.has(output.index)) continue;
    const known = reported.get(output.index);
    const verdict = judge(output, input, (problem) => ({ ...problem, ...toInput(problem.line, problem.column) }));
    problems.push(...verdict.filter((problem) => !known?.has(problem.path)));
  }
  return { text: migrated, documents: reports, problems };
}

function isSympoziumGroup(object: Record<string, unknown>): boolean {
  return typeof object.apiVersion === 'string' && object.apiVersion.startsWith(`${group}/`);
}

/**
 * v0.10.46's verdict on a migrated document, in the input's terms: paths as the input names them, and an
 * unknown field reported as a value with no home, saying whether v0.5.8 knew it either.
 */
function judge(output: ManifestDocument, input: ManifestDocument, relocate: (problem: Problem) => Problem): Problem[] {
  const errors = validateDocuments([output], { release: targetRelease }).filter((problem) => problem.severity === 'error');
  if (errors.length === 0) return [];
  const changes = planMigration(input.object).changes;
  const sourceKind = String(input.object.kind);
  // The input's own problems under v0.5.8, when v0.5.8 serves its kind: a problem both releases see is the
  // input's mistake, not something the migration lost.
  const before = new Map<string, string>();
  if (isSympoziumObject(input.object) && releaseData(sourceRelease).kinds[sourceKind]) {
    for (const problem of validateDocuments([input], { release: sourceRelease })) {
      if (problem.severity === 'error' && !before.has(problem.path)) before.set(problem.path, problem.message);
    }
  }
  const targetKind = String(output.object.kind);
  const unknownField = (message: string | undefined) => (message === undefined ? undefined : /^unknown field "([^"]*)"(.*)$/.exec(message));
  return errors.map((problem) => {
    const path = inputPath(problem.path, changes);
    const unknown = unknownField(problem.message);
    let message: string;
    if (unknown) {
      // A field neither release knows is the input's mistake: v0.5.8's "did you mean" speaks of the input's
      // own fields, so it is the better hint.
      const old = unknownField(before.get(path));
      const hint = (old ?? unknown)[2]!.trim().replace(/^\((.*)\)$/, '$1');
      const also = old ? `; ${sourceRelease}'s ${sourceKind} has no such field either` : '';
      message = `no home in ${targetRelease} (${targetKind} has no field "${unknown[1]}"${hint ? `, ${hint}` : ''}${also})`;
    } else {
      message = `invalid under ${targetRelease}: ${problem.message}${before.has(path) ? ` (invalid under ${sourceRelease} too)` : ''}`;
    }
    return relocate({ ...problem, path, message, release: targetRelease });
  });
}

/** A path of the migrated document as the input names it (spec.agentRef -> spec.instanceRef). */
function inputPath(path: string, changes: readonly Change[]): string {
  for (const change of changes) {
    if (change.op !== 'rename-key') continue;
    const renamed = formatPath([...change.path.slice(0, -1), change.to]);
    if (path === renamed || path.startsWith(`${renamed}.`) || path.startsWith(`${renamed}[`)) return formatPath(change.path) + path.slice(renamed.length);
  }
  return path;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, index) => deepEqual(item, b[index]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]));
  }
  return false;
}

/**
 * Fields the API server sets, and references that only mean something to the live objects: left out of
 * manifests read from a cluster. Owner references to Sympozium objects name v0.5 objects by uid (the garbage
 * collector would delete a new object whose owners are all missing), Sympozium finalizers are the
 * controller's own, and kubectl's last-applied-configuration holds the v0.5 shape.
 */
export function stripServerFields(object: Record<string, unknown>): Record<string, unknown> {
  const { status: _status, ...rest } = structuredClone(object);
  if (!isPlainObject(rest.metadata)) return rest;
  const metadata = rest.metadata;
  for (const field of ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds']) {
    delete metadata[field];
  }
  if (isPlainObject(metadata.annotations)) {
    delete metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'];
    if (Object.keys(metadata.annotations).length === 0) delete metadata.annotations;
  }
  if (Array.isArray(metadata.ownerReferences)) {
    metadata.ownerReferences = metadata.ownerReferences.filter(
      (reference) => !(isPlainObject(reference) && typeof reference.apiVersion === 'string' && reference.apiVersion.startsWith(`${group}/`)),
    );
    if ((metadata.ownerReferences as unknown[]).length === 0) delete metadata.ownerReferences;
  }
  if (Array.isArray(metadata.finalizers)) {
    metadata.finalizers = metadata.finalizers.filter((name) => !(typeof name === 'string' && name.startsWith(`${group}/`)));
    if ((metadata.finalizers as unknown[]).length === 0) delete metadata.finalizers;
  }
  return rest;
}

/**
 * Migrates an object that did not come from a file (a live one, server fields already stripped): the changed
 * object, what changed, and its problems, named by `source` (e.g. `team-a/SympoziumInstance/demo`).
 */
export function migrateObject(object: Record<string, unknown>, source: string): { object: Record<string, unknown>; report: DocumentReport; problems: Problem[] } {
  const plan = planMigration(object);
  const report: DocumentReport = {
    source,
    index: 0,
    line: 0,
    ...(typeof object.apiVersion === 'string' ? { apiVersion: object.apiVersion } : {}),
    ...(typeof object.kind === 'string' ? { kind: object.kind } : {}),
    ...(documentName(object) ? { name: documentName(object) } : {}),
    changes: plan.changes.map(describeChange),
  };
  const problem = (path: string, message: string): Problem => ({ source, line: 0, column: 0, path, message, severity: 'error', release: targetRelease });
  if (plan.problems.length > 0) return { object, report, problems: plan.problems.map((found) => problem(formatPath(found.path), found.message)) };
  const migrated = applyToObject(object, plan.changes);
  if (migrated.kind !== object.kind) report.migratedKind = String(migrated.kind);
  const input: ManifestDocument = { source, index: 0, line: 0, column: 0, object };
  const output: ManifestDocument = { source, index: 0, line: 0, column: 0, object: migrated };
  const problems = isSympoziumGroup(migrated) ? judge(output, input, (found) => found) : [];
  return { object: migrated, report, problems };
}
