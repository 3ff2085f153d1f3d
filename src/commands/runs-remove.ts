import type { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { isNotFound } from '../kube/errors.js';
import { runPath } from '../sympozium/kinds.js';
import { isFinished, listRuns as readRuns } from '../sympozium/runs.js';

export interface RemoveRunsOptions {
  names: string[];
  instance?: string;
  phase?: string;
}

/** Bad usage is said before any connection is made. */
function checkSelection(options: RemoveRunsOptions, verb: 'cancel' | 'delete'): void {
  const selecting = options.instance !== undefined || options.phase !== undefined;
  if (selecting && options.names.length > 0) throw usageError(`name the runs or select them with --instance/--phase, not both`);
  if (!selecting && options.names.length === 0) {
    throw usageError(`no runs to ${verb}`, `Name them (sympozium runs ${verb} <run>...) or select them: --instance <name> [--phase <phase>].`);
  }
}

/** The runs named, or those an --instance/--phase selection matches (shown and confirmed, or --yes). */
async function selectRuns(options: RemoveRunsOptions, verb: 'cancel' | 'delete', ctx: Context, kube: KubeClient): Promise<string[]> {
  if (options.names.length > 0) return options.names;
  const matched = await readRuns(kube, kube.namespace, { instance: options.instance, phase: options.phase });
  const names = matched.filter((run) => verb === 'delete' || !isFinished(run)).map((run) => run.metadata.name);
  const what = `${names.length} run${names.length === 1 ? '' : 's'} in namespace ${kube.namespace}`;
  if (names.length === 0) {
    ctx.out.info(`No ${verb === 'cancel' ? 'unfinished ' : ''}runs match in namespace ${kube.namespace}.`);
    return [];
  }
  if (ctx.globals.yes) return names;
  if (!ctx.interactive) throw usageError(`refusing to ${verb} ${what} without confirmation: ${names.join(', ')}`, 'Add --yes to confirm, or name the runs.');
  if (!(await ctx.prompt.confirm({ message: `${verb === 'cancel' ? 'Cancel' : 'Delete'} ${what}: ${names.join(', ')}?`, default: false }))) {
    throw new CliError(`nothing ${verb === 'cancel' ? 'cancelled' : 'deleted'}`, { exitCode: 1 });
  }
  return names;
}

/** `runs cancel`: stop runs still going, as upstream's abort does (delete the run; its Job and pod follow). */
export async function cancelRuns(options: RemoveRunsOptions, ctx: Context): Promise<void> {
  checkSelection(options, 'cancel');
  const kube = await ctx.kube();
  const { cancelRun } = await import('../sympozium/runs.js');
  const names = await selectRuns(options, 'cancel', ctx, kube);
  const outcomes = [];
  for (const name of names) outcomes.push(await cancelRun(kube, kube.namespace, name));
  if (ctx.out.format === 'json' || ctx.out.format === 'yaml') ctx.out.document({ items: outcomes });
  else {
    for (const outcome of outcomes) {
      if (outcome.outcome === 'cancelled') ctx.out.result(`agentrun.sympozium.ai/${outcome.name} cancelled (deleted; its Job and pod are removed with it)`);
      else if (outcome.outcome === 'already-finished') ctx.out.result(`agentrun.sympozium.ai/${outcome.name} already ${outcome.phase}: nothing to cancel`);
      else if (outcome.outcome === 'server-run') ctx.out.warn(`${outcome.name} is a web endpoint's server run, not a task: stop it with sympozium disable web-endpoint <instance>`);
    }
  }
  const missing = outcomes.filter((outcome) => outcome.outcome === 'not-found').map((outcome) => outcome.name);
  if (missing.length > 0) throw runsNotFound(missing, kube.namespace);
  if (outcomes.some((outcome) => outcome.outcome === 'server-run')) throw new CliError('a server run was not cancelled', { hint: 'Disable the web endpoint instead.' });
}

/** `runs delete`: remove runs whatever their phase (a running one stops); their Jobs and pods go with them. */
export async function deleteRuns(options: RemoveRunsOptions, ctx: Context): Promise<void> {
  checkSelection(options, 'delete');
  const kube = await ctx.kube();
  const names = await selectRuns(options, 'delete', ctx, kube);
  const missing: string[] = [];
  const deleted: string[] = [];
  for (const name of names) {
    try {
      await kube.delete(runPath(kube.namespace, name), { propagationPolicy: 'Background' });
      deleted.push(name);
      if (ctx.out.format !== 'json' && ctx.out.format !== 'yaml') ctx.out.result(`agentrun.sympozium.ai/${name} deleted (its Job and pod are removed with it)`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      missing.push(name);
    }
  }
  if (ctx.out.format === 'json' || ctx.out.format === 'yaml') ctx.out.document({ deleted, notFound: missing });
  if (missing.length > 0) throw runsNotFound(missing, kube.namespace);
}

function runsNotFound(names: string[], namespace: string): CliError {
  return new CliError(`run${names.length === 1 ? '' : 's'} ${names.join(', ')} not found in namespace ${namespace}`, {
    hint: 'List runs with `sympozium runs list` (or -A for every namespace).',
  });
}
