import type { Style } from '../ui/colors.js';
import type { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { isNotFound, isUnservedApi } from '../kube/errors.js';
import { readInstanceByName } from '../sympozium/instances.js';
import { runPath } from '../sympozium/kinds.js';
import { isFinished, listRuns as readRuns, runDurationMs, runSource, runTask, runTokens } from '../sympozium/runs.js';
import { displayRunPhase, runInstance, type AgentRun } from '../sympozium/types.js';
import { redactStatus } from '../sympozium/secrets.js';
import { age, shortDuration } from '../ui/format.js';
import { printTemplated } from '../ui/objects.js';

/** Phase colours shared by every table that shows a phase: green good, yellow in progress, red failed. */
export function colorPhase(color: Style, phase: string, text = phase): string {
  switch (phase) {
    case 'Running':
    case 'Serving':
    case 'Succeeded':
      return color.green(text);
    case 'Failed':
    case 'Error':
      return color.red(text);
    case 'Pending':
    case 'PostRunning':
    case 'AwaitingDelegate':
      return color.yellow(text);
    default:
      return color.gray(text);
  }
}

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

export async function getRun(options: { name: string; headers?: boolean }, ctx: Context): Promise<void> {
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
  const format = ctx.out.format;
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
}

function indentBlock(text: string): string {
  return text.replace(/\n/g, `\n${' '.repeat(12)}`);
}

export interface RemoveRunsOptions {
  names: string[];
  instance?: string;
  phase?: string;
}

/** The runs named, or those an --instance/--phase selection matches (shown and confirmed, or --yes). */
/** Bad usage is said before any connection is made. */
function checkSelection(options: RemoveRunsOptions, verb: 'cancel' | 'delete'): void {
  const selecting = options.instance !== undefined || options.phase !== undefined;
  if (selecting && options.names.length > 0) throw usageError(`name the runs or select them with --instance/--phase, not both`);
  if (!selecting && options.names.length === 0) {
    throw usageError(`no runs to ${verb}`, `Name them (sympozium runs ${verb} <run>...) or select them: --instance <name> [--phase <phase>].`);
  }
}

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

export interface RunLogsOptions {
  name: string;
  follow: boolean;
  tail?: number;
  sinceMs?: number;
  container?: string;
  allContainers: boolean;
  timestamps: boolean;
}

interface PodSummary {
  metadata: { name: string; creationTimestamp?: string; deletionTimestamp?: string };
  spec?: { containers?: { name: string }[] };
  status?: { phase?: string };
}

/** The run's pods: upstream labels a task Job's pod `sympozium.ai/agent-run`; dev labels server pods `sympozium.ai/agentrun`. */
async function podsOfRun(kube: KubeClient, namespace: string, run: AgentRun): Promise<PodSummary[]> {
  const name = run.metadata.name;
  for (const label of ['sympozium.ai/agent-run', 'sympozium.ai/agentrun']) {
    const list = await kube.list<PodSummary>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, { labelSelector: `${label}=${name}` });
    const live = list.items.filter((pod) => !pod.metadata.deletionTimestamp);
    if (live.length > 0) return live.sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''));
  }
  const podName = run.status?.podName;
  const named = podName ? await kube.getOrUndefined<PodSummary>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(podName)}`) : undefined;
  return named ? [named] : [];
}

/**
 * `runs logs <run>`: the logs of the run's pod, as `kubectl logs` reads them (the agent container unless -c or
 * --all-containers); -f follows, and for a server run goes on to the pod that replaces one that went. Upstream
 * deletes a finished task run's Job and pod five minutes after it ends (ttlSecondsAfterFinished: 300 in
 * agentrun_controller.go buildJob; the CRD's spec.cleanup is read by neither release's controller), so once the
 * pod is gone this says so and shows what the run itself kept.
 */
export async function runLogs(options: RunLogsOptions, ctx: Context): Promise<void> {
  const kube = await ctx.kube();
  const namespace = kube.namespace;
  const run = await kube.getOrUndefined<AgentRun>(runPath(namespace, options.name));
  if (!run) {
    throw new CliError(`run "${options.name}" not found in namespace "${namespace}"`, { hint: 'List runs with `sympozium runs list` (or -A).' });
  }
  let pods = await podsOfRun(kube, namespace, run);
  if (pods.length === 0) return explainGone(redactStatus(run), ctx);
  const server = run.spec?.mode === 'server';
  const seen = new Set<string>();
  for (;;) {
    const pod = pods[0]!;
    seen.add(pod.metadata.name);
    const names = (pod.spec?.containers ?? []).map((container) => container.name);
    const containers = options.allContainers ? names : [options.container ?? (names.includes('agent') ? 'agent' : names[0]!)];
    if (options.container && !names.includes(options.container)) {
      throw usageError(`pod ${pod.metadata.name} has no container "${options.container}"`, `Its containers: ${names.join(', ')}.`);
    }
    ctx.out.debug(`logs of pod ${pod.metadata.name} (${containers.join(', ')})`);
    await Promise.all(containers.map((container) => streamLog(kube, namespace, pod.metadata.name, container, options, containers.length > 1, ctx)));
    if (!options.follow || !server || ctx.signal.aborted) return;
    // A server run's pod went (a restart, a rollout): follow its replacement.
    const deadline = Date.now() + 60_000;
    let next: PodSummary | undefined;
    while (!next && Date.now() < deadline && !ctx.signal.aborted) {
      pods = await podsOfRun(kube, namespace, run);
      next = pods.find((candidate) => !seen.has(candidate.metadata.name) && candidate.status?.phase === 'Running');
      if (!next) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    if (!next) return;
    ctx.out.info(`pod ${pod.metadata.name} is gone; following ${next.metadata.name}`);
    pods = [next];
  }
}

async function streamLog(kube: KubeClient, namespace: string, pod: string, container: string, options: RunLogsOptions, prefix: boolean, ctx: Context): Promise<void> {
  const response = await kube.textStream(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`, {
    container,
    follow: options.follow || undefined,
    tailLines: options.tail,
    sinceSeconds: options.sinceMs === undefined ? undefined : Math.max(1, Math.ceil(options.sinceMs / 1000)),
    timestamps: options.timestamps || undefined,
  }, ctx.signal);
  let partial = '';
  try {
    for await (const chunk of response as AsyncIterable<string>) {
      if (!prefix) {
        ctx.out.write(chunk);
        continue;
      }
      const text = partial + chunk;
      const cut = text.lastIndexOf('\n');
      partial = text.slice(cut + 1);
      if (cut >= 0) ctx.out.write(text.slice(0, cut + 1).replace(/^(?=.)/gm, `[${container}] `));
    }
    if (partial) ctx.out.write(`[${container}] ${partial}\n`);
  } catch (error) {
    if (!ctx.signal.aborted) throw error;
  }
}

/** The pod is gone: what the run kept (phase, error, result, tokens), and why its logs went. */
function explainGone(run: AgentRun, ctx: Context): never {
  const name = run.metadata.name;
  const phase = displayRunPhase(run);
  const tokens = runTokens(run);
  ctx.out.warn(`the pod of run ${name} is gone, and its logs with it`);
  ctx.out.info(`run ${name}: ${phase}${run.status?.completedAt ? `, ended ${run.status.completedAt}` : ''}${tokens === undefined ? '' : `, ${tokens} tokens`}`);
  if (run.status?.error) ctx.out.info(`error: ${run.status.error}`);
  if (run.status?.result) {
    ctx.out.info('result (status.result):');
    ctx.out.write(run.status.result.endsWith('\n') ? run.status.result : `${run.status.result}\n`);
  }
  throw new CliError(`no logs for run ${name}: its pod no longer exists`, {
    hint:
      'Sympozium deletes a finished run\'s Job and pod 5 minutes after the run ends (ttlSecondsAfterFinished: 300), and no release offers a way to keep them (spec.cleanup is not read). ' +
      `Next time read them while it runs or just after: sympozium runs logs ${name} -f`,
  });
}
