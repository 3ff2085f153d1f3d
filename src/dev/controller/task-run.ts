import { randomBytes } from 'node:crypto';
import { runInstance, type AgentRun } from '../../sympozium/types.js';
import { chooseProvider } from '../providers/index.js';
import { queueKeys, type ControllerContext } from './context.js';
import { decodeSecret, deleteIfExists, isNotFound, now, pathOf } from './resources.js';
import { parseGoDuration } from './timings.js';
import { policyFailure } from './policy.js';

/**
 * Task-mode AgentRuns, as upstream's Job-based runs behave: empty phase -> Running (startedAt, podName) after
 * the start-up delay -> Succeeded (result, tokenUsage, completedAt) or Failed (error). `spec.timeout` (default
 * 10 minutes) is enforced with the upstream error "timeout". Only the newest `historyLimit` completed runs of an
 * instance are kept.
 */

const defaultTimeoutMs = 10 * 60_000;
class RunTimeout extends Error {}
class RunDeleted extends Error {}

export class TaskRuns {
  private readonly active = new Map<string, AbortController>();
  private readonly scheduled = new Map<string, NodeJS.Timeout>();
  /** Runs pruned but not yet seen gone by the watch, so a lagging cache does not delete them twice. */
  private readonly pruning = new Set<string>();

  constructor(private readonly c: ControllerContext) {}

  async reconcile(run: AgentRun): Promise<void> {
    const key = `${run.metadata.namespace}/${run.metadata.name}`;
    if (run.metadata.deletionTimestamp) return;
    const phase = run.status?.phase ?? '';
    if (phase === '' || phase === 'Pending') {
      if (this.active.has(key) || this.scheduled.has(key)) return;
      const timer = setTimeout(() => {
        this.scheduled.delete(key);
        this.execute(run.metadata.namespace ?? 'default', run.metadata.name).catch((error) =>
          this.c.log(`agentrun ${key}: ${(error as Error).message}`),
        );
      }, this.c.timings.runStartMs);
      this.scheduled.set(key, timer);
      return;
    }
    if (phase === 'Succeeded' || phase === 'Failed') {
      // Pruned once the watch shows the run completed, so the newest completion is always counted; one queued
      // prune per instance however many runs complete at once.
      this.c.queue.add(queueKeys.prune(run.metadata.namespace ?? 'default', runInstance(run) ?? ''));
      return;
    }
    if (phase === 'Running' && !this.active.has(key) && !this.scheduled.has(key)) {
      // Nothing in this process runs it: it was left Running by a control plane that stopped.
      await this.finish(run, { phase: 'Failed', error: 'the local control plane restarted while this run was running', exitCode: 1 });
    }
  }

  /** The run was deleted: stop its agent. */
  forget(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    this.pruning.delete(key);
    clearTimeout(this.scheduled.get(key));
    this.scheduled.delete(key);
    this.active.get(key)?.abort(new RunDeleted('deleted'));
  }

  stopAll(): void {
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    this.scheduled.clear();
    for (const abort of this.active.values()) abort.abort(new RunDeleted('the local control plane is stopping'));
  }

  private async execute(namespace: string, name: string): Promise<void> {
    const c = this.c;
    const key = `${namespace}/${name}`;
    const run = c.runs.get(namespace, name);
    if (!run || run.metadata.deletionTimestamp || (run.status?.phase && run.status.phase !== 'Pending')) return;
    const abort = new AbortController();
    this.active.set(key, abort);
    const instanceName = runInstance(run) ?? '';
    let timer: NodeJS.Timeout | undefined;
    try {
      const rejected = await policyFailure(c, run);
      if (rejected) {
        await this.finish(run, { phase: 'Failed', error: rejected });
        c.log(`agentrun ${key}: Failed: ${rejected}`);
        return;
      }
      const podName = `${name}-${randomBytes(3).toString('hex').slice(0, 5)}`;
      try {
        await c.client.mergePatch(pathOf('runs', namespace, name, 'status'), { status: { phase: 'Running', startedAt: now(), podName, jobName: name } });
      } catch (error) {
        if (isNotFound(error)) return;
        throw error;
      }
      c.log(`agentrun ${key}: Running`);
      const instance = c.instances.get(namespace, instanceName);
      if (!instance) throw new Error(`${c.profile.instanceKind} "${instanceName}" not found in namespace ${namespace}`);
      const provider = chooseProvider(instance, (ns, secret) => decodeSecret(c.secrets.get(ns, secret)), c.timings.echoChunkMs);
      const timeoutMs = parseGoDuration(run.spec.timeout) ?? defaultTimeoutMs;
      timer = setTimeout(() => abort.abort(new RunTimeout('timeout')), timeoutMs);
      const task = typeof run.spec.task === 'string' ? run.spec.task : JSON.stringify(run.spec.task);
      const answer = await provider.run(
        { task, systemPrompt: run.spec.systemPrompt, model: run.spec.model?.model || instance.spec.agents?.default?.model || 'unknown', signal: abort.signal },
        (chunk) => c.streams.push(key, chunk),
      );
      if (abort.signal.aborted) throw abort.signal.reason;
      await this.finish(run, { phase: 'Succeeded', result: answer.text, tokenUsage: answer.usage, exitCode: 0 });
      c.log(`agentrun ${key}: Succeeded (${provider.name}, ${answer.usage.totalTokens ?? 0} tokens)`);
    } catch (error) {
      const reason = abort.signal.aborted ? abort.signal.reason : error;
      if (reason instanceof RunDeleted) return;
      const message = reason instanceof RunTimeout ? 'timeout' : (reason as Error).message;
      await this.finish(run, { phase: 'Failed', error: message, exitCode: reason instanceof RunTimeout ? 124 : 1 });
      c.log(`agentrun ${key}: Failed: ${message}`);
    } finally {
      clearTimeout(timer);
      this.active.delete(key);
      c.streams.end(key);
      c.queue.add(queueKeys.instance(namespace, instanceName));
    }
  }

  private async finish(run: AgentRun, status: Record<string, unknown>): Promise<void> {
    try {
      await this.c.client.mergePatch(pathOf('runs', run.metadata.namespace, run.metadata.name, 'status'), { status: { ...status, completedAt: now() } });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** Keeps the newest completed task runs of an instance, as upstream's history limit does. */
  async prune(namespace: string, instance: string): Promise<void> {
    const completed = this.c.runs
      .list((run) => run.metadata.namespace === namespace && runInstance(run) === instance && run.spec?.mode !== 'server')
      .filter((run) => run.status?.phase === 'Succeeded' || run.status?.phase === 'Failed')
      // Timestamps have one-second resolution; the resourceVersion of the completing write breaks ties.
      .sort((a, b) => (b.status?.completedAt ?? '').localeCompare(a.status?.completedAt ?? '') || Number(b.metadata.resourceVersion ?? 0) - Number(a.metadata.resourceVersion ?? 0));
    for (const run of completed.slice(this.c.historyLimit)) {
      const key = `${namespace}/${run.metadata.name}`;
      if (run.metadata.deletionTimestamp || this.pruning.has(key)) continue;
      this.pruning.add(key);
      await deleteIfExists(this.c.client, pathOf('runs', namespace, run.metadata.name));
      this.c.log(`agentrun ${namespace}/${run.metadata.name}: pruned (history limit ${this.c.historyLimit})`);
    }
  }
}
