import type { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { runPath } from '../sympozium/kinds.js';
import { runTokens } from '../sympozium/runs.js';
import { redactSecrets, redactStatus } from '../sympozium/secrets.js';
import { age } from '../duration.js';
import { displayRunPhase, labels, type AgentRun } from '../sympozium/types.js';

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

/** The run's pods: upstream labels a task Job's pod and a server Deployment's pods `sympozium.ai/agent-run`. */
async function podsOfRun(kube: KubeClient, namespace: string, run: AgentRun): Promise<PodSummary[]> {
  const name = run.metadata.name;
  const list = await kube.list<PodSummary>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, { labelSelector: `${labels.agentRun}=${name}` });
  const live = list.items.filter((pod) => !pod.metadata.deletionTimestamp);
  if (live.length > 0) return live.sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''));
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
  await printRunLogs(kube, run, options, ctx);
}

/**
 * The logs of a run already read, from the same pods and with the same "the pod is gone" answer as `runs logs`;
 * `runs get --logs` calls it after the run's details (`detailsShown`), which already say what the run kept, and
 * then heads the logs with the pod and container they come from.
 */
export async function printRunLogs(kube: KubeClient, run: AgentRun, options: RunLogsOptions, ctx: Context, detailsShown = false): Promise<void> {
  const namespace = run.metadata.namespace ?? kube.namespace;
  let pods = await podsOfRun(kube, namespace, run);
  if (pods.length === 0) return explainGone(kube, redactStatus(run), ctx, detailsShown);
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
    if (detailsShown) ctx.out.write(`\nLogs (pod ${pod.metadata.name}, container${containers.length > 1 ? 's' : ''} ${containers.join(', ')}):\n`);
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

/**
 * The pod is gone: what the run kept (phase, error, result, tokens), unless the run's details were just printed
 * and said it already, and why its logs went.
 */
async function explainGone(kube: KubeClient, run: AgentRun, ctx: Context, detailsShown: boolean): Promise<never> {
  const name = run.metadata.name;
  ctx.out.warn(`the pod of run ${name} is gone, and its logs with it`);
  if (!detailsShown) printSurviving(run, ctx);
  await printEvents(kube, run, ctx);
  throw new CliError(`no logs for run ${name}: its pod no longer exists`, {
    hint:
      'Sympozium deletes a finished run\'s Job and pod 5 minutes after the run ends (ttlSecondsAfterFinished: 300), and no release offers a way to keep them (spec.cleanup is not read). ' +
      `Next time read them while it runs or just after: sympozium runs logs ${name} -f`,
  });
}

interface KubeEvent {
  type?: string;
  reason?: string;
  message?: string;
  lastTimestamp?: string;
  eventTime?: string;
  metadata: { creationTimestamp?: string; resourceVersion?: string };
  involvedObject?: { kind?: string; name?: string };
  source?: { component?: string };
  reportingComponent?: string;
}

/**
 * What outlives the pod: the Events of the run's Job and pod, which the API server keeps for an hour by
 * default (kube-apiserver --event-ttl), as `kubectl describe` would have shown them. Best effort: a cluster
 * that does not let us list Events only loses this part.
 */
async function printEvents(kube: KubeClient, run: AgentRun, ctx: Context): Promise<void> {
  const namespace = run.metadata.namespace ?? kube.namespace;
  const objects = [run.status?.jobName ?? (run.spec?.mode === 'server' ? undefined : run.metadata.name), run.status?.podName].filter((name): name is string => Boolean(name));
  const lists = await Promise.all(
    [...new Set(objects)].map((name) =>
      kube.list<KubeEvent>(`/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, { fieldSelector: `involvedObject.name=${name}` }).catch((error: Error) => {
        ctx.out.debug(`events of ${name}: ${error.message}`);
        return { items: [] as KubeEvent[] };
      }),
    ),
  );
  const when = (event: KubeEvent) => event.lastTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp ?? '';
  // Timestamps have whole seconds; within one, the order of writing (resourceVersion, numeric on every real
  // API server though formally opaque) keeps cause before effect.
  const events = lists
    .flatMap((list) => list.items)
    .sort((a, b) => when(a).localeCompare(when(b)) || Number(a.metadata.resourceVersion ?? 0) - Number(b.metadata.resourceVersion ?? 0));
  if (events.length === 0) {
    ctx.out.info('No Events of its Job or pod are left (the API server drops them an hour after they happen).');
    return;
  }
  ctx.out.info('Events of its Job and pod (kept by the API server for about an hour):');
  const now = ctx.now();
  const rows = events.map((event) => [
    event.type ?? '',
    event.reason ?? '',
    age(when(event), now),
    `${(event.involvedObject?.kind ?? '').toLowerCase()}/${event.involvedObject?.name ?? ''}`,
    event.source?.component ?? event.reportingComponent ?? '',
    redactSecrets(event.message ?? ''),
  ]);
  const headers = ['TYPE', 'REASON', 'AGE', 'OBJECT', 'FROM', 'MESSAGE'];
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `  ${cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join('   ')}`;
  ctx.out.info([line(headers), ...rows.map(line)].join('\n'));
}

function printSurviving(run: AgentRun, ctx: Context): void {
  const name = run.metadata.name;
  const phase = displayRunPhase(run);
  const tokens = runTokens(run);
  ctx.out.info(`run ${name}: ${phase}${run.status?.completedAt ? `, ended ${run.status.completedAt}` : ''}${tokens === undefined ? '' : `, ${tokens} tokens`}`);
  if (run.status?.error) ctx.out.info(`error: ${run.status.error}`);
  if (run.status?.result) {
    ctx.out.info('result (status.result):');
    ctx.out.write(run.status.result.endsWith('\n') ? run.status.result : `${run.status.result}\n`);
  }
}
