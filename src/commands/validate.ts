import type { Context } from '../context.js';
import { CliError, ExitCode, usageError } from '../errors.js';
import { eachManifestFile, type ManifestDocument, type Problem } from '../sympozium/manifests.js';
import { isRelease, type Release } from '../sympozium/releases.js';
import { formatProblem, sortProblems, validateDocuments } from '../sympozium/validate.js';

/** Parsed YAML costs about 50x its size: collecting after every 1 MB read keeps the peak near one file's. */
const reclaimEveryBytes = 1024 * 1024;

export interface ValidateOptions {
  paths: string[];
  /** Also check against the schemas of the CRDs the cluster serves. */
  cluster: boolean;
  /** Judge Sympozium kinds by this release's CRDs (v0.5.8 or v0.10.46) instead of the one each document implies. */
  release?: string;
}

/**
 * `sympozium validate -f <path>...`: every problem in every document, each with its file:line:col and path, on
 * stdout (a list with -o json|yaml); a summary on stderr; exit 2 when anything is invalid.
 */
export async function validate(options: ValidateOptions, ctx: Context): Promise<void> {
  if (options.paths.length === 0) throw usageError('nothing to validate', 'Pass -f <file|directory|->, e.g. sympozium validate -f demo.yaml.');
  if (options.release !== undefined && !isRelease(options.release)) {
    throw usageError(`--release must be v0.5.8 or v0.10.46, not "${options.release}"`);
  }
  const forced = options.release as Release | undefined;
  const releases = new Set<Release>();
  // One file at a time: its documents are checked and dropped before the next is read, so memory follows
  // the largest file (40 files of 3.8 MB once took 4.3 GB and died), and only the problems are kept.
  const problems: Problem[] = [];
  const files = new Set<string>();
  let documentCount = 0;
  let parsedBytes = 0;
  let clusterFailure: unknown;
  let clusterWhere: string | undefined;
  // What each document defines, so that a note about an object another file defines can be dropped at the end.
  const inBatch = new Set<string>();
  let answeredNotes: ((problems: Problem[], inBatch: Set<string>) => Problem[]) | undefined;
  for await (const file of eachManifestFile(options.paths, { cwd: ctx.cwd, stdin: ctx.stdin })) {
    problems.push(...file.problems);
    for (const source of [...file.documents.map((document) => document.source), ...file.problems.map((problem) => problem.source)]) files.add(source);
    documentCount += file.documents.length;
    let extraSchemas: Map<string, unknown> | undefined;
    if (options.cluster && file.documents.length > 0 && clusterFailure === undefined) {
      try {
        const checked = await checkAgainstCluster(file.documents, ctx);
        extraSchemas = checked.schemas;
        clusterWhere = checked.where;
        problems.push(...checked.problems);
        answeredNotes = checked.answeredNotes;
        for (const document of file.documents) {
          const key = checked.batchKey(document.object, checked.namespace);
          if (key) inBatch.add(key);
        }
      } catch (error) {
        clusterFailure = error;
      }
    }
    problems.push(...validateDocuments(file.documents, { extraSchemas, release: forced, onRelease: (_document, release) => releases.add(release) }));
    // Collect once a few large files have been dropped; small inputs never pay for it.
    parsedBytes += file.bytes;
    if (parsedBytes > reclaimEveryBytes) {
      parsedBytes = 0;
      const { reclaimMemory } = await import('../sympozium/reclaim.js');
      reclaimMemory();
    }
  }
  const sorted = sortProblems(answeredNotes ? answeredNotes(problems, inBatch) : problems);

  if (ctx.out.format === 'json' || ctx.out.format === 'yaml') ctx.out.document(sorted);
  else for (const problem of sorted) ctx.out.result(formatProblem(problem));

  const errors = sorted.filter((problem) => problem.severity === 'error');
  const clusterReason = clusterFailure === undefined ? undefined : clusterFailure instanceof Error ? clusterFailure.message : String(clusterFailure);
  if (clusterReason && errors.length > 0) ctx.out.warn(`the cluster could not be checked: ${clusterReason}`);
  if (errors.length > 0) {
    const invalidFiles = new Set(errors.map((problem) => problem.source)).size;
    throw new CliError(`${plural(errors.length, 'problem')} in ${plural(invalidFiles, 'file')}${judgedBy(releases)}`, {
      exitCode: ExitCode.usage,
      hint: 'Fix the problems listed above and run validate again; `sympozium init` writes a valid starting point.',
    });
  }
  if (clusterReason) {
    throw new CliError(`valid against the bundled schemas, but the cluster could not be checked: ${clusterReason}`, {
      cause: clusterFailure,
      hint:
        clusterFailure instanceof CliError && clusterFailure.hint
          ? clusterFailure.hint
          : 'Check that the cluster is reachable (`sympozium doctor`), or drop --cluster to validate offline.',
    });
  }
  const notes = sorted.length > 0 ? `, ${plural(sorted.length, 'note')}` : '';
  const against = options.cluster ? ` (the CRDs of ${clusterWhere ?? 'the cluster'} where it serves the kind, else the bundled ones)` : '';
  ctx.out.success(`${plural(documentCount, 'document')} in ${plural(files.size, 'file')} valid${against}${notes}${judgedBy(releases)}`);
}

/** Which releases' CRDs judged the Sympozium documents, for the summary line. */
function judgedBy(releases: Set<Release>): string {
  return releases.size === 0 ? '' : ` (Sympozium ${releases.size === 1 ? 'release' : 'releases'} ${[...releases].join(', ')})`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

async function checkAgainstCluster(documents: ManifestDocument[], ctx: Context) {
  const [{ checkWithCluster, answeredNotes, batchKey }, kube] = await Promise.all([import('../sympozium/cluster-checks.js'), ctx.kube()]);
  ctx.out.debug(`validate: checking custom kinds against ${kube.describe()}`);
  // Rules upstream's CRDs do not have are notes (exit 0), a document of the other generation included.
  const checked = await checkWithCluster(documents, kube, { mismatch: 'note' });
  for (const note of checked.notes) ctx.out.warn(note);
  return { ...checked, where: kube.describe(), namespace: kube.namespace, answeredNotes, batchKey };
}
