import type { Context } from '../context.js';
import { CliError, ExitCode, usageError } from '../errors.js';
import type { KubeClient, KubeObject } from '../kube/client.js';
import { bodyOf, planObject, type PlannedObject } from '../sympozium/apply.js';
import { answeredNotes, batchKey, checkWithCluster } from '../sympozium/cluster-checks.js';
import { HeldManifests } from '../sympozium/held-manifests.js';
import { eachManifestFile, type ManifestDocument, type Problem } from '../sympozium/manifests.js';
import { reclaimMemory } from '../sympozium/reclaim.js';
import { formatProblem, placeholderAnnotation, sortProblems, validateDocuments } from '../sympozium/validate.js';

/**
 * apply's validation pass, one file at a time: each file is parsed, checked (bundled schemas, the cluster's
 * CRDs, duplicates across all files, -n against its namespaces) and planned, then its parsed form is dropped.
 * What is kept is small: the problems, one identity and one plan per document, and per file what the write
 * passes need to read it again (held-manifests.ts). Nothing is sent unless every document passed.
 */

/** Parsed YAML costs about 50x its size: collecting after every 1 MB read keeps the peak near one file's. */
const reclaimEveryBytes = 1024 * 1024;

const sourceOf = (document: Pick<ManifestDocument, 'source' | 'line'>) => `${document.source}:${document.line}`;

/** `sympozium apply`'s options (src/cli/manifests.ts); the read passes use the paths and the dry-run mode. */
export interface ApplyOptions {
  paths: string[];
  dryRun?: 'client' | 'server';
  forceConflicts: boolean;
  wait: boolean;
  timeoutMs: number;
}

/** What a client dry run without a cluster prints of each document. */
interface Identity {
  apiVersion: unknown;
  kind: unknown;
  namespace: string | null;
  name: unknown;
}

export interface ReadForApply {
  held: HeldManifests;
  /** The cluster, unless a client dry run went on without one. */
  kube?: KubeClient;
  /** With a cluster: every document to send, placeholders left out. */
  planned: PlannedObject[];
  /** Without one: the same documents by name. */
  identities: Identity[];
}

export async function readForApply(options: Pick<ApplyOptions, 'paths' | 'dryRun'>, ctx: Context): Promise<ReadForApply> {
  const held = new HeldManifests();
  const problems: Problem[] = [];
  const firstDefinition = new Map<string, string>();
  const inBatch = new Set<string>();
  const placeholders: string[] = [];
  const planned: PlannedObject[] = [];
  const planFailures: { source: string; error: unknown }[] = [];
  const identities: Identity[] = [];
  let documentCount = 0;
  let parsedBytes = 0;
  let kube: KubeClient | undefined;
  let offline = false;
  // A client dry run is a validation: it may go on without a cluster. Everything else needs one.
  const goOffline = (error: unknown) => {
    if (options.dryRun !== 'client') throw error;
    ctx.out.warn(`the cluster could not be checked (${error instanceof Error ? error.message : String(error)}); validated against the bundled schemas only`);
    offline = true;
    kube = undefined;
  };

  for await (const file of eachManifestFile(options.paths, { cwd: ctx.cwd, stdin: ctx.stdin })) {
    const fileIndex = held.hold(file);
    problems.push(...file.problems);
    documentCount += file.documents.length;
    if (file.documents.length === 0) continue;
    // The cluster is reached at the first document, so input with nothing to send fails without one.
    if (!kube && !offline) await ctx.kube().then((client) => (kube = client), goOffline);
    let extraSchemas: Map<string, unknown> | undefined;
    if (kube) {
      try {
        // A document of the other Sympozium generation than the cluster's is refused: nothing sent would work.
        const checked = await checkWithCluster(file.documents, kube, { mismatch: 'error' });
        extraSchemas = checked.schemas;
        problems.push(...checked.problems);
        for (const note of checked.notes) ctx.out.debug(note);
      } catch (error) {
        goOffline(error);
      }
    }
    problems.push(...validateDocuments(file.documents, { extraSchemas }));
    problems.push(...duplicates(file.documents, firstDefinition));
    problems.push(...namespaceMismatches(file.documents, ctx.globals.namespace));

    const sendable: ManifestDocument[] = [];
    for (const document of file.documents) {
      const object = document.object as KubeObject;
      const key = batchKey(object, kube?.namespace ?? '');
      if (key) inBatch.add(key);
      // A Secret `init` wrote without the key would put a placeholder on the cluster (or overwrite the real key).
      if (object.kind === 'Secret' && object.metadata?.annotations?.[placeholderAnnotation] === 'true') {
        placeholders.push(
          `not applying secret/${object.metadata.name} (${sourceOf(document)}): it holds a placeholder, not a key. Put the key in it and remove the ${placeholderAnnotation} annotation, or create it with kubectl create secret generic.`,
        );
        continue;
      }
      sendable.push(document);
      identities.push({ apiVersion: object.apiVersion, kind: object.kind, namespace: (object.metadata?.namespace as string | undefined) ?? null, name: object.metadata?.name });
    }
    const client = kube as KubeClient | undefined;
    if (client) {
      const results = await Promise.allSettled(
        sendable.map((document) => planObject(client, sourceOf(document), { file: fileIndex, index: document.index }, document.object as KubeObject, client.namespace)),
      );
      const bodies: { index: number; body: KubeObject }[] = [];
      results.forEach((result, index) => {
        const document = sendable[index]!;
        if (result.status === 'fulfilled') {
          planned.push(result.value);
          bodies.push({ index: document.index, body: bodyOf(result.value, document.object as KubeObject) });
        } else planFailures.push({ source: sourceOf(document), error: result.reason });
      });
      held.keep(fileIndex, bodies);
    }
    parsedBytes += file.bytes;
    if (parsedBytes > reclaimEveryBytes) {
      parsedBytes = 0;
      reclaimMemory();
    }
  }

  if (documentCount === 0 && problems.length === 0) {
    throw usageError(`no manifests found in ${options.paths.join(', ')}`, 'Files must end in .yaml, .yml or .json; directories are searched recursively.');
  }
  // Objects named by an instance in one file and defined in another are there: the notes are dropped.
  const sorted = sortProblems(answeredNotes(problems, inBatch));
  const errors = sorted.filter((problem) => problem.severity === 'error');
  if (errors.length > 0) {
    for (const problem of errors) ctx.out.stderr.write(`${formatProblem(problem)}\n`);
    const files = new Set(errors.map((problem) => problem.source)).size;
    throw new CliError(`${errors.length} problem${errors.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}: nothing was applied`, {
      exitCode: ExitCode.usage,
      hint: 'Fix them and apply again; `sympozium validate -f <path>` checks without a cluster.',
    });
  }
  for (const note of sorted.filter((problem) => problem.severity === 'note')) ctx.out.warn(formatProblem(note));
  for (const warning of placeholders) ctx.out.warn(warning);
  if (kube && planFailures.length > 0) {
    const first = planFailures[0]!;
    for (const { source, error } of planFailures) ctx.out.stderr.write(`${source}: ${error instanceof Error ? error.message : String(error)}\n`);
    throw new CliError(`${planFailures.length} document${planFailures.length === 1 ? '' : 's'} cannot be applied to this cluster: nothing was applied`, {
      hint: first.error instanceof CliError ? first.error.hint : 'Run `sympozium doctor` to see what the cluster serves.',
    });
  }
  return { held, kube, planned: kube ? planned : [], identities };
}

/** The same object twice would race within a tier; it is almost always a copy-paste mistake. */
function duplicates(documents: ManifestDocument[], firstDefinition: Map<string, string>): Problem[] {
  const problems: Problem[] = [];
  for (const document of documents) {
    const object = document.object as KubeObject;
    if (!object.kind || !object.metadata?.name) continue;
    const key = `${object.apiVersion}/${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    const first = firstDefinition.get(key);
    if (first) {
      problems.push({
        source: document.source,
        line: document.line,
        column: document.column,
        path: 'metadata.name',
        message: `${object.kind} ${object.metadata.name} is defined twice (first at ${first})`,
        severity: 'error',
      });
    } else firstDefinition.set(key, sourceOf(document));
  }
  return problems;
}

/** Like kubectl: an explicit -n that contradicts a document's own namespace is a mistake, not a choice. */
function namespaceMismatches(documents: ManifestDocument[], flag: string | undefined): Problem[] {
  if (!flag) return [];
  return documents.flatMap((document) => {
    const namespace = (document.object as KubeObject).metadata?.namespace;
    if (!namespace || namespace === flag) return [];
    const position = document.locate?.position(['metadata', 'namespace'], 'value') ?? { line: document.line, column: document.column };
    return [{
      source: document.source,
      ...position,
      path: 'metadata.namespace',
      message: `the document says namespace "${namespace}" but -n says "${flag}": drop -n, or change metadata.namespace`,
      severity: 'error' as const,
    }];
  });
}
