import { colorPhase } from '../ui/colors.js';
import type { Context } from '../context.js';
import { CliError, InterruptedError, usageError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { isNotFound, isUnservedApi } from '../kube/errors.js';
import { suggestValue } from '../sympozium/suggest.js';
import { watchObjects } from '../kube/watch.js';
import { readInstanceByName } from '../sympozium/instances.js';
import { runPath } from '../sympozium/kinds.js';
import { finishedPhases, isFinished, listRuns as readRuns, runDurationMs, runMatches, runSource, runTask, runTokens, type RunFilter } from '../sympozium/runs.js';
import { displayRunPhase, runInstance, type AgentRun } from '../sympozium/types.js';
import { redactSecrets, redactStatus } from '../sympozium/secrets.js';
import { age, shortDuration } from '../duration.js';

export interface ListRunsOptions {
  instance?: string;
  source?: string;
  phase?: string;
  allNamespaces: boolean;
  limit?: number;
}

const runName = (run: AgentRun) => `agentrun.sympozium.ai/${run.metadata.name}`;

/**
 * Runs outlive their instance (and may name one not created yet), so an unknown instance is not an error here;
 * but a typo would otherwise list nothing, or follow nothing forever, in silence.
 */
async function warnIfNoInstance(kube: Awaited<ReturnType<Context['kube']>>, name: string, ctx: Context): Promise<boolean> {
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

export async function listRuns(options: ListRunsOptions, ctx: Context): Promise<void> {
  const kube = await ctx.kube();
  const namespace = options.allNamespaces ? undefined : kube.namespace;
  const instanceExists = options.instance && namespace ? await warnIfNoInstance(kube, options.instance, ctx) : true;
  const filter: RunFilter = { instance: options.instance, source: options.source, phase: options.phase };
  // Run errors are the server's text, and a provider's error can quote the key it was given.
  let runs = (await readRuns(kube, namespace, filter)).map((run) => redactStatus(run));
  if (options.limit) runs = runs.slice(0, options.limit);
  const format = ctx.out.format;
  if (format === 'json' || format === 'yaml') return ctx.out.document({ apiVersion: 'v1', kind: 'List', items: runs, metadata: {} });
  if (format === 'name') {
    for (const run of runs) ctx.out.result(runName(run));
    return;
  }
  if (runs.length === 0) {
    const what = [options.instance && `of ${options.instance}`, options.source && `from ${options.source}`, options.phase && `in phase ${options.phase}`].filter(Boolean).join(' ');
    ctx.out.info(`No runs${what ? ` ${what}` : ''} in ${namespace ? `namespace ${namespace}` : 'any namespace'}.`);
    if (instanceExists) {
      ctx.out.hint(options.instance ? `Start one: sympozium chat ${options.instance} "hello"` : 'Completed runs are pruned (the newest 50 per instance are kept).');
    }
    return;
  }
  const now = ctx.now();
  const wide = format === 'wide';
  const headers = [...(namespace ? [] : ['namespace']), 'name', 'instance', 'phase', 'source', 'duration', 'tokens', ...(wide ? ['pod', 'error'] : []), 'age'];
  const rows = runs.map((run) => {
    const duration = runDurationMs(run, now);
    const tokens = runTokens(run);
    return [
      ...(namespace ? [] : [run.metadata.namespace ?? '']),
      run.metadata.name ?? '',
      runInstance(run) ?? '-',
      colorPhase(ctx.out.color, displayRunPhase(run)),
      runSource(run) || '-',
      duration === undefined ? '-' : shortDuration(duration),
      tokens === undefined ? '-' : String(tokens),
      ...(wide ? [run.status?.podName ?? '-', oneLine(run.status?.error ?? '') || '-'] : []),
      age(run.metadata.creationTimestamp, now),
    ];
  });
  ctx.out.table(headers, rows);
}

function oneLine(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export async function getRun(options: { name: string }, ctx: Context): Promise<void> {
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

export interface TailRunsOptions {
  instance?: string;
  run?: string;
  sinceMs?: number;
  untilDone: boolean;
  source?: string;
  /** With --run: wait for a run that does not exist yet, instead of failing. */
  waitForCreate?: boolean;
  /** With --until-done: give up after this long (exit 1). */
  timeoutMs?: number;
}

/** One status change as `runs tail -o json` prints it. */
interface RunTransition {
  time: string;
  namespace: string;
  run: string;
  instance?: string;
  source?: string;
  phase: string;
  previousPhase?: string;
  /** False for a status change within the same phase (-o json only prints those). */
  transition?: boolean;
  durationMs?: number;
  tokens?: number;
  error?: string;
  /** True when the run disappeared (deleted, or pruned by the controller). */
  vanished?: boolean;
}

/** The moment a run last changed, for --since: completion, else start, else creation. */
function lastChange(run: AgentRun): number {
  return Date.parse(run.status?.completedAt ?? run.status?.startedAt ?? run.metadata.creationTimestamp ?? '') || 0;
}

export async function tailRuns(options: TailRunsOptions, ctx: Context): Promise<void> {
  if (options.untilDone && !options.run) {
    throw usageError('--until-done needs --run <name>: it exits with that run\'s outcome', 'For example: sympozium runs tail --run demo-web-x7k2p --until-done');
  }
  if (options.timeoutMs !== undefined && !options.untilDone) {
    throw usageError('--timeout limits --until-done: without it, runs tail follows until Ctrl-C', 'For example: sympozium runs tail --run demo-web-x7k2p --until-done --timeout 5m');
  }
  const kube = await ctx.kube();
  const namespace = kube.namespace;
  if (options.instance) await warnIfNoInstance(kube, options.instance, ctx);
  const filter: RunFilter = { instance: options.instance, source: options.source };
  const json = ctx.out.format === 'json';
  const color = ctx.out.color;
  const phases = new Map<string, string>();
  let outcome: 'Succeeded' | 'Failed' | 'Skipped' | 'vanished' | undefined;
  let failure: string | undefined;

  // Lines are batched and written once per turn of the event loop: a burst of thousands of transitions
  // (a busy namespace, a relist) costs a few writes instead of one per line.
  let pending: string[] = [];
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    if (pending.length === 0) return;
    ctx.out.write(pending.join(''));
    pending = [];
  };
  const write = (line: string) => {
    pending.push(line);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };
  const emit = (transition: RunTransition) => {
    if (json) return write(`${JSON.stringify(transition)}\n`);
    const time = transition.time.slice(11, 19);
    const phase = transition.vanished ? color.gray('vanished'.padEnd(10)) : colorPhase(color, transition.phase, transition.phase.padEnd(10));
    const duration = transition.durationMs === undefined ? '' : shortDuration(transition.durationMs);
    const tokens = transition.tokens === undefined ? '' : `${transition.tokens} tokens`;
    const detail = transition.vanished
      ? color.gray(`(deleted or pruned; last phase ${transition.phase})`)
      : transition.error
        ? color.red(oneLine(transition.error, 100))
        : '';
    write(`${[time, transition.run.padEnd(30), phase, duration.padStart(7), tokens.padStart(12), detail].join('  ').trimEnd()}\n`);
  };

  const transitionOf = (run: AgentRun, time: Date, previousPhase?: string): RunTransition => {
    const transition: RunTransition = {
      time: time.toISOString(),
      namespace: run.metadata.namespace ?? namespace,
      run: run.metadata.name ?? '',
      instance: runInstance(run),
      source: runSource(run) || undefined,
      phase: displayRunPhase(run),
    };
    if (previousPhase) transition.previousPhase = previousPhase;
    const duration = runDurationMs(run, time);
    if (duration !== undefined) transition.durationMs = duration;
    const tokens = runTokens(run);
    if (tokens !== undefined) transition.tokens = tokens;
    if (run.status?.error) transition.error = redactSecrets(run.status.error);
    return transition;
  };

  /** Records a run's state; prints it when its phase differs from what was printed before. */
  /**
   * Records a run's state and prints it: in the table, once per phase transition; with -o json, once per
   * status change (tokens and timings move within a phase too), each object saying whether it is a transition.
   */
  const statuses = new Map<string, string>();
  const observe = (run: AgentRun, print: boolean) => {
    const key = run.metadata.name ?? '';
    const phase = displayRunPhase(run);
    const previous = phases.get(key);
    phases.set(key, phase);
    let changed = previous !== phase;
    if (json) {
      const status = JSON.stringify(run.status ?? {});
      changed ||= statuses.get(key) !== status;
      statuses.set(key, status);
    }
    if (print && changed) emit({ ...transitionOf(run, ctx.now(), previous), transition: previous !== phase });
    if (options.run === key && finishedPhases.has(phase)) {
      outcome = phase as 'Succeeded' | 'Failed' | 'Skipped';
      failure = run.status?.error === undefined ? undefined : redactSecrets(run.status.error);
    }
  };

  const watchSignal = new AbortController();
  const deadline = options.untilDone && options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined;
  const signal = AbortSignal.any([ctx.signal, watchSignal.signal, ...(deadline ? [deadline] : [])]);
  const path = runPath(namespace);
  if (!json) {
    const what = options.run ? `run ${options.run}` : options.instance ? `runs of ${options.instance}` : `runs in namespace ${namespace}`;
    ctx.out.info(`Following ${what} (Ctrl-C to stop).`);
  }
  try {
    for await (const update of watchObjects<AgentRun>(kube, path, {
      fieldSelector: options.run ? `metadata.name=${options.run}` : undefined,
      labelSelector: options.source ? `sympozium.ai/source=${options.source}` : undefined,
      signal,
      onRelist: (count, reason) => reason === 'expired' && ctx.out.debug(`watch expired (410): relisted ${count} runs`),
      onResume: (rv, reason) => ctx.out.debug(`watch resumed from resourceVersion ${rv}: ${reason}`),
    })) {
      if (update.type === 'LISTED') {
        if (update.relist) continue;
        // The starting state, like `kubectl get -w`, minus the history: runs still in progress, runs that
        // changed within --since, and the one --run names. Finished runs beyond that stay quiet.
        const cutoff = options.sinceMs === undefined ? Number.POSITIVE_INFINITY : ctx.now().getTime() - options.sinceMs;
        const initial = update.items.filter((run) => runMatches(run, filter)).sort((a, b) => lastChange(a) - lastChange(b));
        for (const run of initial) observe(run, Boolean(options.run) || !isFinished(run) || lastChange(run) >= cutoff);
        if (options.run && initial.length === 0) {
          if (!options.waitForCreate) throw await noSuchRun(kube, namespace, options.run);
          if (!json) ctx.out.info(`Run ${options.run} does not exist yet; waiting for it (--wait-for-create).`);
        }
      } else if (update.type === 'DELETED') {
        const run = update.object;
        if (!runMatches(run, filter)) continue;
        const key = run.metadata.name ?? '';
        const last = phases.get(key) ?? displayRunPhase(run);
        phases.delete(key);
        statuses.delete(key);
        emit({ ...transitionOf(run, ctx.now()), phase: last, vanished: true });
        if (options.run === key && !outcome) outcome = 'vanished';
      } else {
        if (runMatches(update.object, filter)) observe(update.object, true);
      }
      if (options.untilDone && outcome) break;
    }
  } catch (error) {
    // The --timeout deadline ends the watch like Ctrl-C would; it is reported below, not as an interruption.
    if (!deadline?.aborted || ctx.signal.aborted) throw error;
  } finally {
    watchSignal.abort();
    flush();
  }
  if (ctx.signal.aborted) throw new InterruptedError();
  if (deadline?.aborted && !outcome) {
    throw new CliError(`run ${options.run} did not finish within ${shortDuration(options.timeoutMs!)}${phases.get(options.run!) ? ` (it is ${phases.get(options.run!)})` : ' (it was never created)'}`, {
      hint: `Follow it longer with a larger --timeout, or look at it: sympozium runs get ${options.run}`,
    });
  }
  if (!options.untilDone) return;
  if (outcome === 'Failed') {
    throw new CliError(`run ${options.run} failed${failure ? `: ${oneLine(failure, 200)}` : ''}`, {
      hint: `Details: sympozium runs get ${options.run}`,
    });
  }
  if (outcome === 'vanished') {
    throw new CliError(`run ${options.run} was deleted before it finished`, { hint: 'Something deleted it (or its instance); its outcome is unknown.' });
  }
}

/** `runs tail --run <typo>`: a run that is not there fails at once, naming the closest one that is. */
async function noSuchRun(kube: KubeClient, namespace: string, name: string): Promise<CliError> {
  const names = await readRuns(kube, namespace, {}).then((runs) => runs.map((run) => run.metadata.name), () => [] as string[]);
  const closest = suggestValue(name, names);
  return new CliError(`run "${name}" not found in namespace "${namespace}"`, {
    hint: `${closest ? `Did you mean "${closest}"? ` : ''}List runs with \`sympozium runs list\`; to wait for a run that is about to be created, add --wait-for-create.`,
  });
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
