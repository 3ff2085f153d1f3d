import type { Context } from '../context.js';
import { CliError, ExitCode, usageError } from '../errors.js';
import { readManifests, type ManifestDocument, type Problem } from '../sympozium/manifests.js';
import { isRelease, type Release } from '../sympozium/releases.js';
import { formatProblem, hasErrors, sortProblems, validateDocuments } from '../sympozium/validate.js';

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
  const read = await readManifests(options.paths, { cwd: ctx.cwd, stdin: ctx.stdin });
  const problems: Problem[] = [...read.problems];
  let extraSchemas: Map<string, unknown> | undefined;
  let clusterFailure: unknown;
  if (options.cluster && read.documents.length > 0) {
    try {
      const checked = await checkAgainstCluster(read.documents, ctx);
      extraSchemas = checked.schemas;
      problems.push(...checked.problems);
    } catch (error) {
      clusterFailure = error;
    }
  }
  const releases = new Set<Release>();
  problems.push(
    ...validateDocuments(read.documents, { extraSchemas, release: forced, onRelease: (_document, release) => releases.add(release) }),
  );
  const sorted = sortProblems(problems);

  if (ctx.out.format === 'json' || ctx.out.format === 'yaml') ctx.out.document(sorted);
  else for (const problem of sorted) ctx.out.result(formatProblem(problem));

  const errors = sorted.filter((problem) => problem.severity === 'error');
  const files = new Set([...read.documents.map((document) => document.source), ...read.problems.map((problem) => problem.source)]);
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
  const against = options.cluster ? ' (bundled schemas and the cluster)' : '';
  ctx.out.success(`${plural(read.documents.length, 'document')} in ${plural(files.size, 'file')} valid${against}${notes}${judgedBy(releases)}`);
}

/** Which releases' CRDs judged the Sympozium documents, for the summary line. */
function judgedBy(releases: Set<Release>): string {
  return releases.size === 0 ? '' : ` (Sympozium ${releases.size === 1 ? 'release' : 'releases'} ${[...releases].join(', ')})`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

async function checkAgainstCluster(documents: ManifestDocument[], ctx: Context) {
  const [{ clusterSchemas }, kube] = await Promise.all([import('../sympozium/cluster-schemas.js'), ctx.kube()]);
  ctx.out.debug(`validate: checking custom kinds against ${kube.describe()}`);
  const checked = await clusterSchemas(documents, kube);
  for (const note of checked.notes) ctx.out.warn(note);
  return checked;
}
