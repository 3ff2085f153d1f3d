import { colorPhase } from '../ui/colors.js';
import type { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { isNotFound, isUnservedApi } from '../kube/errors.js';
import { readInstanceByName } from '../sympozium/instances.js';
import { runPath } from '../sympozium/kinds.js';
import { runDurationMs, runSource, runTask, runTokens } from '../sympozium/runs.js';
import { displayRunPhase, runInstance, type AgentRun } from '../sympozium/types.js';
import { redactStatus } from '../sympozium/secrets.js';
import { age, shortDuration } from '../duration.js';
import { printTemplated } from '../ui/objects.js';

/**
 * `runs get`, and what every `runs` verb shares; `runs list`, `runs tail`, `runs logs` and `runs cancel/delete`
 * live in runs-list.ts, runs-tail.ts, runs-logs.ts and runs-remove.ts.
 */

export const runName = (run: AgentRun) => `agentrun.sympozium.ai/${run.metadata.name}`;

/**
 * Runs outlive their instance (and may name one not created yet), so an unknown instance is not an error here;
 * but a typo would otherwise list nothing, or follow nothing forever, in silence.
 */
export async function warnIfNoInstance(kube: Awaited<ReturnType<Context['kube']>>, name: string, ctx: Context): Promise<boolean> {
  try {
    await readInstanceByName(kube, name);
    return true;
  } catch (error) {
    if (error instanceof CliError && /not found|does not exist/.test(error.message)) {
      ctx.out.warn(`${error.message}; showing runs that name it anyway.`);
      if (error.hint) ctx.out.hint(error.hint);
      return false;
    }
    ctx.out.debug(`could not check that instance ${name} exists: ${(error as Error).message}`);
    return true;
  }
}

export function oneLine(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export interface GetRunOptions {
  name: string;
  /** After the details, the run's pod logs as `runs logs` reads them. */
  logs?: boolean;
  /** --no-headers, for -o custom-columns. */
  headers?: boolean;
}

export async function getRun(options: GetRunOptions, ctx: Context): Promise<void> {
  const format = ctx.out.format;
  // -o json|yaml|name print the AgentRun exactly as the API serves it, as `kubectl get -o` does, so that jq, a
  // schema or `kubectl apply -f -` can read it; logs are not part of the object (kubectl never mixes them in:
  // `kubectl get` has no logs and `kubectl logs` no -o), so the two are asked for separately.
  if (options.logs && (format === 'json' || format === 'yaml' || format === 'name')) {
    throw usageError(`--logs prints text after the run's details; -o ${format} prints only the AgentRun`, `Read them apart: sympozium runs get ${options.name} -o ${format}; sympozium runs logs ${options.name}`);
  }
  const kube = await ctx.kube();
  let run: AgentRun;
  try {
    run = redactStatus(await kube.get<AgentRun>(runPath(kube.namespace, options.name)));
  } catch (error) {
    if (isNotFound(error) && !isUnservedApi(error)) {
      throw new CliError(`run "${options.name}" not found in namespace "${kube.namespace}"`, {
        hint: 'List runs with `sympozium runs list` (or -A). Completed runs are pruned: only the newest 50 per instance are kept.',
      });
    }
    throw error;
  }
  if (format === 'json' || format === 'yaml') return ctx.out.document(run);
  if (format === 'name') return ctx.out.result(runName(run));
  if (printTemplated(ctx.out, run, [run], options.headers)) return;
  const now = ctx.now();
  const status = run.status ?? {};
  const usage = status.tokenUsage;
  const duration = runDurationMs(run, now);
  const lines: string[] = [];
  const field = (label: string, value: string | number | undefined) => lines.push(`${`${label}:`.padEnd(12)}${value === undefined || value === '' ? '-' : value}`);
  field('Name', run.metadata.name);
  field('Namespace', run.metadata.namespace);
  field('Instance', runInstance(run));
  field('Phase', colorPhase(ctx.out.color, displayRunPhase(run)));
  field('Source', runSource(run));
  field('Mode', run.spec?.mode ?? 'task');
  field('Model', [run.spec?.model?.provider, run.spec?.model?.model].filter(Boolean).join('/'));
  field('Created', run.metadata.creationTimestamp ? `${run.metadata.creationTimestamp} (${age(run.metadata.creationTimestamp, now)} ago)` : undefined);
  field('Started', status.startedAt);
  field('Completed', status.completedAt);
  field('Duration', duration === undefined ? undefined : shortDuration(duration));
  field(
    'Tokens',
    usage
      ? `${runTokens(run) ?? 0} total (${usage.inputTokens ?? 0} in, ${usage.outputTokens ?? 0} out${usage.toolCalls ? `, ${usage.toolCalls} tool calls` : ''})`
      : undefined,
  );
  field('Pod', status.podName);
  field('Job', status.jobName);
  if (status.deploymentName) field('Deployment', status.deploymentName);
  if (status.serviceName) field('Service', status.serviceName);
  if (status.exitCode !== undefined) field('Exit code', status.exitCode);
  field('Task', indentBlock(runTask(run)));
  if (status.result) field('Result', indentBlock(status.result));
  if (status.error) field('Error', ctx.out.color.red(indentBlock(status.error)));
  ctx.out.result(lines.join('\n'));
  if (!options.logs) return;
  const { printRunLogs } = await import('./runs-logs.js');
  await printRunLogs(kube, run, { name: options.name, follow: false, allContainers: false, timestamps: false }, ctx, true);
}

function indentBlock(text: string): string {
  return text.replace(/\n/g, `\n${' '.repeat(12)}`);
}
