import type { Context } from '../context.js';
import { CliError, InterruptedError } from '../errors.js';
import type { EndpointClient } from '../openai/client.js';
import { EndpointError } from '../openai/errors.js';
import { noResponseContent, runNameFromId, type ChatCompletion, type ChatMessage } from '../openai/types.js';
import type { AgentRun, AgentRunStatus } from '../sympozium/types.js';
import { shortDuration } from '../duration.js';
import type { Connection } from './connect.js';
import { taskOf } from './conversation.js';
import { RunTracker } from './run-tracker.js';

/**
 * One question and its answer: send it, show the answer (streamed or at once), and then what happened
 * behind it — the AgentRun's name, phase, duration and token usage — or why there is no answer.
 */

export interface TurnOptions {
  stream: boolean;
  json: boolean;
  timeoutMs: number;
  model: string;
  /** Cancels this answer only (Ctrl-C in an interactive session). */
  signal?: AbortSignal;
  /**
   * Starts a spinner while waiting (a person is watching stderr); absent for none. The command passes ui/'s, since
   * only commands import ui/.
   */
  spinner?: StartSpinner;
  /** Ctrl-C also cancels the run the request started (deletes it, as upstream's abort does). */
  cancelOnInterrupt?: boolean;
}

/** What turn needs of ui/spinner.ts's startSpinner: a line to update and stop. */
export type StartSpinner = (text: string, options?: { unless?: () => boolean }) => Promise<{ update(text: string): void; stop(): void }>;

export interface TurnResult {
  content: string;
  completion: ChatCompletion;
  run?: AgentRun;
  runName?: string;
}

/** How long after the run failed to let the proxy say so itself before giving up on it. */
export const failedRunGraceMs = 2_000;
/**
 * How long to wait after the answer for the run's final status (tokens, duration, a late error): upstream marks a
 * task run Succeeded, with tokenUsage, only after its Job has ended, seconds after the proxy answered
 * (agentrun_controller.go). Bounded; a run still going after it is said to be so.
 */
export const finalStatusWaitMs = 20_000;

/**
 * How long after the run Succeeded to let the proxy answer before answering from the run itself. Upstream's proxy
 * answers on the agent's completion event, which comes before the Job ends and the run turns Succeeded, so a
 * request still unanswered then waits for an event that has passed: v0.10's proxy reuses an unfinished run with
 * the same request hash (openai.go findRecentWebRun), and a retry that lands on it after its completion event
 * hangs until the proxy's 10-minute timeout.
 */
const succeededRunGraceMs = 3_000;
/** How long after the request left the cluster client may wait for the answer to begin (see runTurn). */
const clusterSetupDelayMs = 25;

class RunSucceededWhileWaiting extends Error {
  constructor(readonly run: AgentRun) {
    super(`run ${run.metadata.name} succeeded`);
  }
}

class RunFailedWhileWaiting extends Error {
  constructor(readonly run: AgentRun) {
    super(`run ${run.metadata.name} failed`);
  }
}

export async function runTurn(ctx: Context, connection: Connection, client: EndpointClient, messages: ChatMessage[], options: TurnOptions): Promise<TurnResult> {
  const instance = connection.target.instance;
  const startedAt = Date.now();
  let spinner: Awaited<ReturnType<StartSpinner>> | undefined;
  let printedAny = false;
  const cancel = new AbortController();
  let failTimer: NodeJS.Timeout | undefined;
  let tracker: RunTracker | undefined;

  // Nothing the cluster or a spinner needs may delay the request: both are set up once it is on its way.
  let requestSent!: () => void;
  const sent = new Promise<void>((resolve) => (requestSent = resolve));
  // Setting up the cluster client is ~8 ms of synchronous work (the client, the kubeconfig parsed). A stream
  // waits with it until the first text is out, the answer is over, or 25 ms after the request left, so a first
  // token that comes at once is not held behind it. A blocking turn starts at once: it prints after the run's
  // final status, and starting later only made it later (bench: 1.41x -> 1.65x of curl plus a node start).
  let clusterMayStart!: () => void;
  const clusterGate = new Promise<void>((resolve) => (clusterMayStart = resolve));
  void sent.then(() => (options.stream ? setTimeout(clusterMayStart, clusterSetupDelayMs) : clusterMayStart()));
  const clusterReady = clusterGate.then(() => connection.cluster()).then((cluster) => {
    if (!cluster) {
      ctx.out.debug(`run details skipped: ${connection.clusterSkipped}`);
      return undefined;
    }
    tracker = new RunTracker({
      kube: cluster.kube,
      namespace: cluster.namespace,
      instance,
      task: taskOf(messages),
      since: startedAt,
      debug: (m) => ctx.out.debug(m),
      secrets: [connection.target.apiKey],
      onPodProblem: (run, problems) => {
        // Said while waiting, not after: upstream keeps such a run Running until its timeout (10 minutes for the
        // proxy's runs), and the proxy holds the request as long.
        spinner?.stop();
        spinner = undefined;
        ctx.out.warn(
          `run ${run.metadata.name} is Running but its pod cannot start: ${problems.join('; ')}. It stays Running until its timeout (${run.spec?.timeout || '10m'}) unless that is fixed; \`sympozium doctor ${instance}\` says what the instance needs, and Ctrl-C stops waiting.`,
        );
      },
      onUpdate: (run) => {
        spinner?.update(`waiting for ${instance} (run ${run.metadata.name}: ${run.status?.phase || 'Pending'})`);
        if (run.status?.phase === 'Failed' && !failTimer) {
          failTimer = setTimeout(() => cancel.abort(new RunFailedWhileWaiting(run)), failedRunGraceMs);
        }
        if (run.status?.phase === 'Succeeded' && run.status.result?.trim() && !failTimer) {
          failTimer = setTimeout(() => {
            // Only while nothing of the answer has come: a stream under way ends by itself.
            if (!receivedAny && !answered) cancel.abort(new RunSucceededWhileWaiting(run));
          }, succeededRunGraceMs);
        }
      },
    }).start();
    return cluster;
  });
  // The same test startSpinner makes: when nothing spins, retries are said on their own line instead.
  const startSpinner = options.spinner;
  const spinning = startSpinner !== undefined && !options.json && Boolean(ctx.out.stderr.isTTY) && !ctx.env.CI && !ctx.out.quiet && !ctx.out.machine;
  let answered = false;
  const spinnerReady = spinning
    ? sent
        .then(() => startSpinner(`waiting for ${instance}`, { unless: () => answered || printedAny || receivedAny }))
        .then((started) => {
          if (answered || printedAny) started.stop();
          else spinner = started;
        })
    : Promise.resolve();

  let endsWithNewline = true;
  // Upstream's proxy sends the whole answer as one chunk, and "(no response)" when the agent runner gave none
  // (internal/webproxy/openai.go): text that could still become that placeholder is held back, so it never
  // reaches stdout as if it were an answer.
  let heldBack = '';
  let receivedAny = false;
  const show = (text: string) => {
    if (!printedAny) spinner?.stop();
    printedAny = true;
    endsWithNewline = text.endsWith('\n');
    ctx.out.write(text);
    clusterMayStart();
  };
  const onDelta = options.json
    ? undefined
    : (text: string) => {
        receivedAny = true;
        if (printedAny) return show(text);
        heldBack += text;
        if (noResponseContent.startsWith(heldBack.trimStart())) return;
        const flushed = heldBack;
        heldBack = '';
        show(flushed);
      };
  const signals = [cancel.signal, options.signal].filter((s): s is AbortSignal => Boolean(s));

  let completion: ChatCompletion;
  try {
    const outcome = await client.chat(
      { model: options.model, messages, stream: options.stream },
      {
        timeoutMs: options.timeoutMs,
        onSent: () => requestSent(),
        onDelta,
        signal: AbortSignal.any(signals),
        onRetry: ({ attempt, delayMs, reason, safeBecause }) => {
          const why = safeBecause === 'idempotency-key' ? 'same request, no second run' : 'refused before any run started';
          const text = `${reason}: trying again in ${shortDuration(delayMs)} (attempt ${attempt}; ${why})`;
          if (spinner) spinner.update(`waiting for ${instance} (${text})`);
          else ctx.out.info(text);
        },
      },
    );
    completion = outcome.completion;
  } catch (error) {
    requestSent();
    clusterMayStart();
    answered = true;
    await spinnerReady;
    spinner?.stop();
    if (printedAny && !endsWithNewline) ctx.out.write('\n');
    clearTimeout(failTimer);
    const reason = cancel.signal.reason;
    const succeeded = reason instanceof RunSucceededWhileWaiting ? reason.run : undefined;
    if (!succeeded) {
      if (reason instanceof RunFailedWhileWaiting) {
        tracker?.stop();
        const failure = runFailedError(reason.run, instance, 'the agent run failed before the web endpoint answered');
        if (options.json) printFailure(ctx, failure, reason.run.metadata.name, reason.run.metadata.namespace, reason.run);
        throw failure;
      }
      if (error instanceof InterruptedError || !(error instanceof CliError)) {
        if (ctx.signal.aborted || options.signal?.aborted) await afterInterrupt(ctx, tracker, await clusterReady.catch(() => undefined), options.cancelOnInterrupt === true);
        void clusterReady.then(() => tracker?.stop());
        throw error;
      }
      const cluster = await clusterReady;
      const runName = await tracker?.identified(1_500);
      const detailed = await withRunDetails(error, runName, tracker);
      if (options.json) {
        const run = runName ? await tracker?.final(runName, 1_000).catch(() => undefined) : undefined;
        printFailure(ctx, detailed, runName, cluster?.namespace, run, error instanceof EndpointError ? error.status : undefined);
      }
      tracker?.stop();
      throw detailed;
    }
    completion = completionFromRun(succeeded, options.model);
    ctx.out.info(ctx.out.errColor.dim(`(the endpoint had not answered ${shortDuration(succeededRunGraceMs)} after run ${succeeded.metadata.name} Succeeded; the answer is the run's status.result)`));
  }
  requestSent();
  clusterMayStart();
  answered = true;
  clearTimeout(failTimer);
  await spinnerReady;
  spinner?.stop();
  const cluster = await clusterReady;

  let content = completion.choices?.[0]?.message?.content ?? '';
  let noAnswer = content.trim() === '' || content.trim() === noResponseContent;
  if (!options.json && !noAnswer) {
    if (!printedAny) ctx.out.write(content);
    else if (heldBack) show(heldBack);
    if ((printedAny && !endsWithNewline) || (!printedAny && content && !content.endsWith('\n'))) ctx.out.write('\n');
  }

  // The run behind the answer is named only when known for certain: the response id names it, or the run
  // tracker saw this request create it.
  const runName = runNameFromId(completion.id) ?? tracker?.runName;
  let run: AgentRun | undefined;
  let readFailure: string | undefined;
  if (tracker && runName) {
    const final = tracker.final(runName, finalStatusWaitMs).catch((error: unknown) => {
      readFailure = (error as Error).message?.split('\n')[0] ?? String(error);
      return undefined;
    });
    // A spinner only when the final status is slow to come: most runs end as the answer arrives.
    const quick = await Promise.race([final.then(() => true), new Promise<false>((resolve) => setTimeout(resolve, 400, false))]);
    const waiting =
      !quick && spinning && !options.json ? await startSpinner(`waiting for run ${runName}'s final status`) : undefined;
    run = await final;
    waiting?.stop();
  }
  tracker?.stop();

  // No text in the answer, but the run Succeeded with a result: that result is the answer.
  const result = run?.status?.phase === 'Succeeded' ? run.status.result?.trim() : undefined;
  if (noAnswer && result && result !== noResponseContent) {
    content = result;
    noAnswer = false;
    if (!options.json) {
      ctx.out.write(content.endsWith('\n') ? content : `${content}\n`);
      ctx.out.info(ctx.out.errColor.dim(`(the endpoint sent no text; this is run ${runName}'s status.result)`));
    }
  }
  const failed = run?.status?.phase === 'Failed';
  if (options.json) {
    ctx.out.document({ response: completion, run: runDocument(runName, cluster?.namespace, run, cluster ? undefined : connection.clusterSkipped) });
  } else if (runName) {
    const missing = readFailure
      ? `could not read it: ${readFailure}`
      : cluster
        ? `not found in namespace ${cluster.namespace} of ${cluster.kube.describe()}; is the endpoint on another cluster?`
        : 'no cluster to ask for its details';
    const phase = run?.status?.phase;
    const going = run && phase !== 'Succeeded' && phase !== 'Failed' ? ` (still ${phase || 'Pending'} after ${shortDuration(finalStatusWaitMs)}; its final status comes when its Job ends: sympozium runs get ${runName})` : '';
    ctx.out.info(ctx.out.errColor.dim(`${describeRun(runName, run, missing)}${going}`));
  }

  if (failed) throw runFailedError(run!, instance, noAnswer ? 'the agent gave no answer' : 'the agent run failed');
  if (noAnswer) {
    const where = runName ? `run ${runName}` : `the newest web-proxy run of ${instance}`;
    throw new CliError(
      run
        ? `the agent gave no answer (${where} is ${run.status?.phase || 'Pending'}${run.status?.error ? `: ${run.status.error}` : ''})`
        : `the agent gave no answer${content.trim() ? ` ("${noResponseContent}")` : ''}; look at ${where} to see why`,
      { hint: runName ? `See the run with \`sympozium runs get ${runName}\` (and its pod's logs).` : `List the runs with \`sympozium runs list --instance ${instance}\`.` },
    );
  }
  return { content, completion, run, runName };
}

/**
 * After Ctrl-C: with --cancel-on-interrupt (the default on a terminal), the run this request started is
 * cancelled as upstream's own abort does it, by deleting it (cmd/sympozium/main.go, tuiAbortRun); otherwise
 * it goes on, and the user is told where to look and how to stop it.
 */
export async function afterInterrupt(ctx: Context, tracker: RunTracker | undefined, cluster: Awaited<ReturnType<Connection['cluster']>>, cancel: boolean): Promise<void> {
  const kube = cluster?.kube.detached();
  try {
    const runName = tracker?.runName ?? (kube ? await tracker?.findWith(kube).catch(() => undefined) : undefined);
    if (!runName) {
      ctx.out.info('Stopped waiting; the run the request started (if any) may still be working: sympozium runs list shows it.');
      return;
    }
    if (!cancel || !cluster || !kube) {
      ctx.out.info(`Stopped waiting; run ${runName} goes on: \`sympozium runs get ${runName}\`, or stop it with \`sympozium runs cancel ${runName}\`.`);
      return;
    }
    const { cancelRun } = await import('../sympozium/runs.js');
    const outcome = await cancelRun(kube, cluster.namespace, runName);
    if (outcome.outcome === 'cancelled') ctx.out.info(`Cancelled run ${runName} (deleted, with its Job and pod).`);
    else if (outcome.outcome === 'already-finished') ctx.out.info(`Run ${runName} had already ${outcome.phase === 'Succeeded' ? 'succeeded' : 'ended'} (${outcome.phase}).`);
  } catch (error) {
    ctx.out.warn(`could not cancel the run: ${(error as Error).message}; \`sympozium runs list\` shows it, \`sympozium runs cancel <run>\` stops it`);
  } finally {
    kube?.close();
  }
}

function runFailedError(run: AgentRun, instance: string, lead: string): CliError {
  const name = run.metadata.name;
  return new CliError(`${lead}: run ${name} failed${run.status?.error ? `: ${run.status.error}` : ''}`, {
    hint: `See the run with \`sympozium runs get ${name}\`; \`sympozium runs list --instance ${instance}\` shows the others.`,
  });
}

/** Adds what the run says to an error from the endpoint (a 500, a 504, an agent_error event). */
export async function withRunDetails(error: CliError, runName: string | undefined, tracker: RunTracker | undefined): Promise<CliError> {
  if (!runName || !(error instanceof EndpointError)) return error;
  const run = tracker ? await tracker.final(runName, 1_000).catch(() => undefined) : undefined;
  const detail = run?.status?.error && !error.message.includes(run.status.error) ? ` (run ${runName}: ${run.status.error})` : ` (run ${runName})`;
  const seeRun = `See the run with \`sympozium runs get ${runName}\`.`;
  return new CliError(`${error.message}${detail}`, { hint: error.hint ? `${error.hint} ${seeRun}` : seeRun, exitCode: error.exitCode, cause: error });
}

function durationOf(status: AgentRunStatus | undefined): number | undefined {
  if (status?.tokenUsage?.durationMs) return status.tokenUsage.durationMs;
  if (status?.startedAt && status.completedAt) return Date.parse(status.completedAt) - Date.parse(status.startedAt);
  return undefined;
}

export function describeRun(name: string, run: AgentRun | undefined, missing?: string): string {
  if (!run) return `run ${name}${missing ? ` (${missing})` : ''}`;
  const parts = [`run ${name}`, run.status?.phase || 'Pending'];
  const duration = durationOf(run.status);
  if (duration !== undefined && duration >= 0) parts.push(shortDuration(duration));
  const usage = run.status?.tokenUsage;
  if (usage && (usage.totalTokens || usage.inputTokens || usage.outputTokens)) {
    const total = usage.totalTokens ?? (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
    parts.push(`${total} tokens (${usage.inputTokens ?? 0} in, ${usage.outputTokens ?? 0} out${usage.toolCalls ? `, ${usage.toolCalls} tool calls` : ''})`);
  }
  return parts.join(' · ');
}

/** With --json a failure is a document too, so a script reading stdout learns what went wrong and which run. */
function printFailure(ctx: Context, error: CliError, runName: string | undefined, namespace: string | undefined, run: AgentRun | undefined, status?: number): void {
  ctx.out.document({ error: { message: error.message, ...(status ? { status } : {}) }, run: runDocument(runName, namespace, run) });
}

function runDocument(name: string | undefined, namespace: string | undefined, run: AgentRun | undefined, skipped?: string) {
  if (!name) return null;
  return {
    name,
    namespace: namespace ?? null,
    phase: run ? run.status?.phase || 'Pending' : null,
    status: run?.status ?? null,
    ...(skipped ? { skipped } : {}),
  };
}

/** The answer a Succeeded run holds, shaped as the proxy's blocking answer would be (its id names the run). */
function completionFromRun(run: AgentRun, model: string): ChatCompletion {
  const usage = run.status?.tokenUsage;
  return {
    id: `chatcmpl-${run.metadata.name}`,
    object: 'chat.completion',
    created: Math.floor(Date.parse(run.status?.completedAt ?? '') / 1000) || Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: run.status?.result ?? '' }, finish_reason: 'stop' }],
    ...(usage ? { usage: { prompt_tokens: usage.inputTokens ?? 0, completion_tokens: usage.outputTokens ?? 0, total_tokens: usage.totalTokens ?? 0 } } : {}),
  } as ChatCompletion;
}
