import type { KubeClient } from '../kube/client.js';
import { runPath } from './kinds.js';
import { displayRunPhase, labels, runInstance, type AgentRun } from './types.js';

/** Reading AgentRuns: filtering, ordering and the numbers a person wants to see about each. */

export interface RunFilter {
  instance?: string;
  source?: string;
  phase?: string;
}

/** Label selector for what labels can express; the instance filter is also checked against spec (see below). */
function runLabelSelector(filter: RunFilter): string | undefined {
  return filter.source ? `${labels.source}=${filter.source}` : undefined;
}

/**
 * Whether a run passes the filter. The instance is matched by label, falling back to spec.instanceRef /
 * agentRef, because upstream creators set the label by hand and not every one did.
 */
export function runMatches(run: AgentRun, filter: RunFilter): boolean {
  if (filter.instance && runInstance(run) !== filter.instance) return false;
  if (filter.source && run.metadata.labels?.[labels.source] !== filter.source) return false;
  if (filter.phase && displayRunPhase(run).toLowerCase() !== filter.phase.toLowerCase()) return false;
  return true;
}

export async function listRuns(kube: KubeClient, namespace: string | undefined, filter: RunFilter): Promise<AgentRun[]> {
  const list = await kube.list<AgentRun>(runPath(namespace), { labelSelector: runLabelSelector(filter) });
  return sortNewestFirst(list.items.filter((run) => runMatches(run, filter)));
}

function sortNewestFirst(runs: AgentRun[]): AgentRun[] {
  const time = (run: AgentRun) => Date.parse(run.metadata.creationTimestamp ?? '') || 0;
  return [...runs].sort((a, b) => time(b) - time(a) || (b.metadata.name ?? '').localeCompare(a.metadata.name ?? ''));
}

/** How long the run took (or has been going): tokenUsage.durationMs, else startedAt to completedAt or now. */
export function runDurationMs(run: AgentRun, now: Date): number | undefined {
  const fromUsage = run.status?.tokenUsage?.durationMs;
  if (fromUsage !== undefined && run.status?.completedAt) return fromUsage;
  const started = Date.parse(run.status?.startedAt ?? '');
  if (Number.isNaN(started)) return undefined;
  const completed = Date.parse(run.status?.completedAt ?? '');
  return (Number.isNaN(completed) ? now.getTime() : completed) - started;
}

export function runTokens(run: AgentRun): number | undefined {
  const usage = run.status?.tokenUsage;
  if (!usage) return undefined;
  if (usage.totalTokens !== undefined) return usage.totalTokens;
  if (usage.inputTokens !== undefined || usage.outputTokens !== undefined) return (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
  return undefined;
}

export function runSource(run: AgentRun): string {
  return run.metadata.labels?.[labels.source] ?? (run.metadata.labels?.[labels.component] ? run.metadata.labels[labels.component]! : '');
}

/** A task as text: a string in v0.5, possibly an object later. */
export function runTask(run: AgentRun): string {
  const task = run.spec?.task;
  if (task === undefined) return '';
  return typeof task === 'string' ? task : JSON.stringify(task);
}

export const finishedPhases = new Set(['Succeeded', 'Failed', 'Skipped']);

export function isFinished(run: AgentRun): boolean {
  return finishedPhases.has(displayRunPhase(run));
}

export type CancelOutcome =
  | { name: string; outcome: 'cancelled' }
  | { name: string; outcome: 'already-finished'; phase: string }
  | { name: string; outcome: 'server-run' }
  | { name: string; outcome: 'not-found' };

/**
 * What upstream's own abort does (cmd/sympozium/main.go, tuiAbortRun, v0.5.8 and v0.10.46): a run still going
 * is deleted, and its Job and pod go with it through their owner references; a finished one is left alone. A
 * server run (the web endpoint) is not a task to cancel: disabling the endpoint is the way to stop it.
 */
export async function cancelRun(kube: KubeClient, namespace: string, name: string): Promise<CancelOutcome> {
  const run = await kube.getOrUndefined<AgentRun>(runPath(namespace, name));
  if (!run) return { name, outcome: 'not-found' };
  if (isFinished(run)) return { name, outcome: 'already-finished', phase: displayRunPhase(run) };
  if (run.spec?.mode === 'server') return { name, outcome: 'server-run' };
  await kube.delete(runPath(namespace, name), { propagationPolicy: 'Background' }).catch((error: unknown) => {
    if ((error as { code?: number }).code !== 404) throw error;
  });
  return { name, outcome: 'cancelled' };
}
