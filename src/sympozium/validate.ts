import type { ManifestDocument, PathSegment, Problem } from './manifests.js';
import { documentSchema, kindSchema, knownKinds, objectMeta, type Schema } from './schema.js';
import { checkValue, formatPath, isPlainObject, maxProblemsPerDocument, type CheckContext } from './schema-check.js';
import { checkObjectMeta } from './object-meta.js';
import {
  defaultRelease,
  releaseData,
  releaseNames,
  releaseOf,
  upstreamHasStatusSubresource,
  upstreamKind,
  upstreamSchema,
  type Release,
} from './releases.js';
import { suggestValue } from './suggest.js';
import { group } from './types.js';

/**
 * Validation of whole documents: which schema applies (bundled, the cluster's, or none for unknown kinds), the
 * rules every object follows (apiVersion, kind, metadata.name), and problems with their file positions.
 */

/** Marks a Secret `sympozium init` wrote without the key: applying it as is would store the placeholder. */
export const placeholderAnnotation = 'sympozium.ai/placeholder';

export interface ValidateOptions {
  /** openAPIV3Schema of the cluster's CRDs, keyed by apiVersion/kind, checked in addition to the bundled ones. */
  extraSchemas?: Map<string, unknown>;
  /** Judge Sympozium kinds by this release's CRDs only, instead of the release the document implies. */
  release?: Release;
  /** Told, per document, which release's CRDs judged it (Sympozium kinds only). */
  onRelease?: (document: ManifestDocument, release: Release) => void;
}

/** Checks documents against the bundled schemas (and the cluster's, when given); returns every problem. */
export function validateDocuments(documents: ManifestDocument[], options: ValidateOptions = {}): Problem[] {
  const problems: Problem[] = [];
  for (const document of documents) {
    const locate = document.locate;
    const ctx: CheckContext = { findings: [], plainScalar: locate ? (path) => locate.plainScalar(path) : undefined };
    const release = checkDocument(document.object, ctx, options.extraSchemas, options.release);
    if (release) options.onRelease?.(document, release);
    const findings = ctx.findings;
    const seen = new Set<string>();
    for (const finding of findings.slice(0, maxProblemsPerDocument)) {
      const path = formatPath(finding.path);
      const key = `${path}\u0000${finding.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const position = document.locate?.position(finding.path, finding.at) ?? { line: document.line, column: document.column };
      problems.push({
        source: document.source,
        ...position,
        path,
        message: finding.message,
        severity: finding.severity,
        ...(release ? { release } : {}),
      });
    }
    if (findings.length > maxProblemsPerDocument) {
      problems.push({
        source: document.source,
        line: document.line,
        column: document.column,
        path: '',
        message: `more problems in this document than shown (${maxProblemsPerDocument}); fix these first`,
        severity: 'error',
      });
    }
  }
  return problems;
}

/** The document-level rules (apiVersion, kind, metadata.name, which schema applies), then the schema itself. */
function checkDocument(
  object: Record<string, unknown>,
  ctx: CheckContext,
  extraSchemas?: Map<string, unknown>,
  forcedRelease?: Release,
): Release | undefined {
  const note = (message: string, path: PathSegment[] = []) => ctx.findings.push({ path, at: 'value', message, severity: 'note' });
  const error = (message: string, path: PathSegment[], at: 'key' | 'value' = 'value') =>
    ctx.findings.push({ path, at, message, severity: 'error' });

  const { apiVersion, kind } = object;
  if (apiVersion === undefined) error('required', ['apiVersion']);
  else if (typeof apiVersion !== 'string' || apiVersion === '') error(`must be a string such as v1 or ${group}/v1alpha1`, ['apiVersion']);
  if (kind === undefined) error('required', ['kind']);
  else if (typeof kind !== 'string' || kind === '') error('must be a string such as SympoziumInstance', ['kind']);
  const metadata = object.metadata;
  if (metadata === undefined) error('required', ['metadata', 'name']);
  else if (isPlainObject(metadata)) {
    if (metadata.name === undefined || metadata.name === '') {
      error(metadata.generateName ? 'required (apply needs a fixed name; generateName works only with create)' : 'required', ['metadata', 'name']);
    }
  }
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !apiVersion || !kind) {
    if (metadata !== undefined) checkValue(metadata, objectMeta, ['metadata'], ctx);
    checkObjectMeta(metadata, ['metadata'], ctx.findings);
    return undefined;
  }
  checkObjectMeta(metadata, ['metadata'], ctx.findings);

  const key = `${apiVersion}/${kind}`;
  const cluster = extraSchemas?.get(key) as Schema | undefined;
  const [apiGroupOfDocument] = apiVersion.includes('/') ? apiVersion.split('/') : [''];
  if (apiGroupOfDocument === group) {
    const release = checkUpstream(object, ctx, cluster, forcedRelease);
    if (release) return release;
  }
  const bundled = apiGroupOfDocument === group ? undefined : kindSchema(apiVersion, kind);
  if (bundled) {
    const schema = documentSchema(bundled);
    checkValue(object, schema, [], { ...ctx, root: schema, findings: ctx.findings });
  }
  if (cluster) {
    // The cluster's schema says nothing useful about metadata (CRDs may only say "object"), so keep ours.
    const withMeta: Schema = { ...cluster, properties: { ...(cluster.properties ?? {}), metadata: objectMeta } };
    checkValue(object, withMeta, [], { ...ctx, root: withMeta, findings: ctx.findings });
  }
  if (kind === 'Secret' && isPlainObject(metadata) && isPlainObject(metadata.annotations)) {
    if (metadata.annotations[placeholderAnnotation] === 'true') {
      note('this Secret holds a placeholder, not a key: replace the value, or delete this document and create the Secret with kubectl');
    }
  }
  if (bundled || cluster) return undefined;

  if (metadata !== undefined) checkValue(metadata, objectMeta, ['metadata'], ctx);
  const sameKind = knownKinds().filter((entry) => entry.kind === kind);
  if (sameKind.length > 0) {
    error(`${kind} is served as ${sameKind.map((entry) => entry.apiVersion).join(' or ')}, not ${apiVersion}`, ['apiVersion']);
    return undefined;
  }
  const [apiGroup] = apiVersion.includes('/') ? apiVersion.split('/') : [''];
  if (apiGroup === group) {
    const close = suggestValue(kind, sympoziumKindNames());
    if (close) {
      error(`unknown kind ${kind} in ${group} (did you mean ${close}?)`, ['kind']);
      return undefined;
    }
  }
  note(`no bundled schema for ${apiVersion} ${kind}; only apiVersion, kind and metadata were checked`);
  return undefined;
}

/**
 * A Sympozium kind, judged by upstream's CRDs: the release the document implies (kind, AgentRun's reference
 * field), else the default release, else (for a kind both releases serve) the other one with a note, because a
 * document some real release accepts must not be refused. A cluster's own schema, when given, is the authority.
 */
function checkUpstream(
  object: Record<string, unknown>,
  ctx: CheckContext,
  cluster: Schema | undefined,
  forcedRelease: Release | undefined,
): Release | undefined {
  const apiVersion = object.apiVersion as string;
  const kind = object.kind as string;
  const implied = forcedRelease ?? releaseOf(object);
  const order: Release[] = implied ? [implied] : [defaultRelease, ...releaseNames.filter((name) => name !== defaultRelease)];
  const candidates = order
    .map((release) => ({ release, entry: upstreamKind(release, apiVersion, kind) }))
    .filter((candidate) => candidate.entry);
  if (candidates.length === 0) return undefined;
  const attempt = (schema: Schema, statusSubresource = false) => {
    const withMeta: Schema = { ...schema, properties: { ...(schema.properties ?? {}), metadata: objectMeta } };
    const findings: CheckContext['findings'] = [];
    checkValue(object, withMeta, [], { ...ctx, root: withMeta, findings });
    if (statusSubresource) {
      for (const finding of findings) {
        // Create and apply drop status after decoding (the status subresource's PrepareForCreate and
        // PrepareForUpdate), so only what decoding refuses, an unknown field, still fails the request.
        if (finding.path[0] !== 'status' || finding.severity !== 'error' || finding.message.startsWith('unknown field')) continue;
        finding.severity = 'note';
        finding.message = `${finding.message} (the API server ignores status here: it is the controller's to write)`;
      }
    }
    return findings;
  };
  if (cluster) {
    ctx.findings.push(...attempt(cluster));
    return candidates[0]!.release;
  }
  let first: { release: Release; findings: CheckContext['findings'] } | undefined;
  for (const { release, entry } of candidates) {
    const schema = upstreamSchema(release, entry!, apiVersion);
    if (!schema) continue;
    const findings = attempt(schema, upstreamHasStatusSubresource(release, entry!, apiVersion));
    const failed = findings.some((finding) => finding.severity === 'error');
    if (!failed) {
      ctx.findings.push(...findings);
      if (first) {
        ctx.findings.push({
          path: [],
          at: 'value',
          severity: 'note',
          message: `invalid under ${first.release} (the default), valid under ${release}'s CRDs: judged by ${release}`,
        });
      }
      return release;
    }
    first ??= { release, findings };
  }
  if (first) ctx.findings.push(...first.findings);
  return first?.release ?? candidates[0]!.release;
}

function sympoziumKindNames(): string[] {
  const names = new Set<string>();
  for (const release of releaseNames) for (const name of Object.keys(releaseData(release).kinds)) names.add(name);
  return [...names];
}

/** Problems in reading order: by file (as first seen), then line, then column. */
export function sortProblems(problems: Problem[]): Problem[] {
  const fileOrder = new Map<string, number>();
  for (const problem of problems) if (!fileOrder.has(problem.source)) fileOrder.set(problem.source, fileOrder.size);
  return [...problems].sort(
    (a, b) => fileOrder.get(a.source)! - fileOrder.get(b.source)! || a.line - b.line || a.column - b.column,
  );
}

/** One problem as a line: `demo.yaml:12:7  spec.authRefs[0].secret: required` (notes say so). */
export function formatProblem(problem: Problem): string {
  const where = problem.line > 0 ? `${problem.source}:${problem.line}:${problem.column}` : problem.source;
  const what = `${problem.severity === 'note' ? 'note: ' : ''}${problem.path ? `${problem.path}: ` : ''}${problem.message}`;
  return `${where}  ${what}`;
}

export function hasErrors(problems: Problem[]): boolean {
  return problems.some((problem) => problem.severity === 'error');
}

