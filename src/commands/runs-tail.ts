import type { Context } from '../context.js';
import { CliError, InterruptedError, usageError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { suggestValue } from '../sympozium/suggest.js';
import { watchObjects } from '../kube/watch.js';
import { runPath } from '../sympozium/kinds.js';
import { finishedPhases, isFinished, listRuns as readRuns, runDurationMs, runMatches, runSource, runTokens, type RunFilter } from '../sympozium/runs.js';
import { displayRunPhase, runInstance, type AgentRun } from '../sympozium/types.js';
import { redactSecrets } from '../sympozium/secrets.js';
import { shortDuration } from '../duration.js';
import { colorPhase } from '../ui/colors.js';
import { oneLine, warnIfNoInstance } from './runs.js';

/** `sympozium runs tail`: AgentRun status changes live, one line per transition (a watch, not polling). */

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
export interface RunTransition {
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

