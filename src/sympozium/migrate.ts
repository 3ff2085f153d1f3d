import { parseManifests } from './manifest-parse.js';
import type { ManifestDocument, PathSegment, Problem } from './manifests.js';
import { releaseData } from './releases.js';
import { formatPath, isPlainObject } from './schema-check.js';
import { group } from './types.js';
import { validateDocuments } from './validate.js';
import { applyToObject, isSympoziumObject, planMigration, sourceRelease, targetRelease, type Change } from './migrate-plan.js';
import { applyEdits, editsFor, lineStarts, offsetOf, originalOffset, positionOf, type Edit } from './migrate-text.js';

/**
 * `sympozium migrate`: v0.5.8 manifests to v0.10.46. The mapping is data (migrate-plan.ts's tables, each
 * citing where upstream made the change), applied twice from one list of changes: to the parsed object (what the
 * result must mean) and to the text itself (migrate-text.ts), token by token, so comments, key order, quoting and
 * layout survive and a document with nothing to change keeps its bytes. The text is then read again and must
 * mean exactly that object, and is judged by v0.10.46's CRDs, before the caller writes anything.
 *
 * The two releases' CRDs (src/sympozium/upstream-schemas/<release>/crds, from upstream's config/crd/bases at
 * 4a6f5f1 and 8b74fa0) differ, for what v0.5.8 documents can hold, only by the renames of migrate-plan.ts:
 * every other v0.5.8 field exists in v0.10.46 with the same type, enum and default (v0.10.46 only adds fields and relaxes
 * SkillPack's sidecar.env[].value to optional, and AgentRun's task to any shape). So a value of a valid v0.5.8
 * document always has a home; one that has none (a field neither release knows, a renamed field given under
 * both names) is a problem naming it, never dropped.
 */

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
