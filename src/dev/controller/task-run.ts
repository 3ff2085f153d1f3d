import { runInstance, type AgentRun } from '../../sympozium/types.js';
import { chooseProvider } from '../providers/index.js';
import { queueKeys, type ControllerContext } from './context.js';
import { decodeSecret, deleteIfExists, isNotFound, now, pathOf } from './resources.js';
import { defaultRunTimeoutMs as defaultTimeoutMs, parseGoDuration } from './timings.js';
import { policyFailure } from './policy.js';
import { parseAgentOutcome, resultMarker, resultTailLines, type AgentOutcome } from './agent-result.js';
import { AgentCrash } from '../providers/types.js';
import { topics } from '../providers/streams.js';
import { removeRunPod, startRunPod, type RunPod } from './run-pod.js';
import { redactSecrets } from '../../sympozium/secrets.js';

/**
 * Task-mode AgentRuns, as upstream's Job-based runs behave: empty phase -> Running (startedAt, podName, jobName)
 * after the start-up delay -> once the Job has ended, Succeeded (result, tokenUsage when tokens were counted,
 * completedAt) or Failed (error), both read from the agent's log. `spec.timeout` (default 10 minutes) is enforced
 * with the upstream error "timeout". No exitCode is written (neither release does). Only the newest
 * `historyLimit` completed runs of an instance are kept.
 */

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
      await this.finish(run, { phase: 'Failed', error: 'the local control plane restarted while this run was running' });
    }
  }

  /** The run was deleted: stop its agent; its Job and pod go with it, as their owner references say. */
  forget(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    void this.c.client
      .list(pathOf('pods', namespace), { labelSelector: `sympozium.ai/agent-run=${name}` })
      .then((pods) => Promise.all([removeRunPod(this.c, namespace, name, undefined), ...pods.items.map((pod) => deleteIfExists(this.c.client, pathOf('pods', namespace, pod.metadata.name)))]))
      .catch(() => {});
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
    let podOfRun: RunPod | undefined;
    const startedAt = Date.now();
    try {
      const rejected = await policyFailure(c, run);
      if (rejected) {
        await this.finish(run, { phase: 'Failed', error: rejected });
        c.log(`agentrun ${key}: Failed: ${rejected}`);
        return;
      }
      let pod: RunPod;
      try {
        pod = await startRunPod(this.c, run);
        await c.client.mergePatch(pathOf('runs', namespace, name, 'status'), { status: { phase: 'Running', startedAt: now(), podName: pod.name, jobName: name } });
      } catch (error) {
        if (isNotFound(error)) return;
        throw error;
      }
      podOfRun = pod;
      c.log(`agentrun ${key}: Running`);
      const instance = c.instances.get(namespace, instanceName);
      if (!instance) throw new Error(`${c.profile.instanceKind} "${instanceName}" not found in namespace ${namespace}`);
      // The timeout counts from startedAt, as reconcileRunning's does, so a pod that cannot start times out too.
      const timeoutMs = parseGoDuration(run.spec.timeout) ?? defaultTimeoutMs;
      timer = setTimeout(() => abort.abort(new RunTimeout('timeout')), timeoutMs);
      await this.providerSecret(run, pod, abort.signal);
      const provider = chooseProvider(instance, (ns, secret) => decodeSecret(c.secrets.get(ns, secret)), c.timings.echoChunkMs);
      const task = typeof run.spec.task === 'string' ? run.spec.task : JSON.stringify(run.spec.task);
      const model = run.spec.model?.model || instance.spec.agents?.default?.model || 'unknown';
      podOfRun.log('agent', `agent-runner: run ${name}, model ${model} (${provider.name}), task of ${task.length} characters`);
      const answer = await provider.run({ task, systemPrompt: run.spec.systemPrompt, model, signal: abort.signal }, (chunk) => {
        podOfRun?.stream('agent', chunk);
      });
      if (abort.signal.aborted) throw abort.signal.reason;
      const success: AgentOutcome = { status: 'success', response: answer.text, metrics: { durationMs: answer.usage.durationMs ?? 0, inputTokens: answer.usage.inputTokens ?? 0, outputTokens: answer.usage.outputTokens ?? 0, toolCalls: answer.usage.toolCalls ?? 0 } };
      this.bridge(run, success, answer.completionFirst === true);
      podOfRun.log('agent', resultMarker(success));
      await this.jobEnds(abort.signal);
      await podOfRun.finish(true);
      // As upstream's reconcileRunning: the Job succeeded, so the result and token usage are whatever the
      // agent's log says, and a failure marker in it fails the run.
      const outcome = await this.outcomeFromPod(namespace, podOfRun.name);
      if (outcome.error) {
        await this.finish(run, { phase: 'Failed', error: outcome.error });
        c.log(`agentrun ${key}: Failed: ${outcome.error}`);
        return;
      }
      await this.finish(run, { phase: 'Succeeded', result: outcome.result, ...(outcome.tokenUsage ? { tokenUsage: outcome.tokenUsage } : {}) });
      c.log(`agentrun ${key}: Succeeded (${provider.name}, ${outcome.tokenUsage?.totalTokens ?? 0} tokens)`);
    } catch (error) {
      const reason = abort.signal.aborted ? abort.signal.reason : error;
      if (reason instanceof RunDeleted) return;
      if (reason instanceof RunTimeout) {
        // reconcileRunning's timeout: the Job is deleted (its pod with it) and the run fails with "timeout".
        await removeRunPod(c, namespace, name, podOfRun?.name);
        await this.finish(run, { phase: 'Failed', error: 'timeout' });
        c.log(`agentrun ${key}: Failed: timeout`);
        return;
      }
      // A provider's error often quotes the key it was sent ("Incorrect API key provided: sk-…"); the run's
      // status and its log are read by anyone who may list runs, so the key is masked before either is written
      // (issue 17: dev never stores a key in a run's status).
      const message = redactSecrets((reason as Error).message, this.providerSecretValues(run));
      if (podOfRun && reason instanceof AgentCrash) {
        // The agent died without writing a result (OOMKilled, a panic): no completion event, nothing in the log;
        // the Job fails and the controller fails the run with "Job failed" (agentrun_controller.go).
        podOfRun.log('agent', `agent-runner: ${message}`);
        await this.jobEnds(abort.signal).catch(() => {});
        await podOfRun.finish(false).catch(() => {});
        await this.finish(run, { phase: 'Failed', error: 'Job failed' });
      } else if (podOfRun) {
        // The agent runner writes its failure to /ipc/output/result.json (which its ipc-bridge publishes as the
        // completion, with no response) and prints it as a result marker, then exits 1. its failure as a result marker and exits 1; the Job fails and the controller
        // takes the error from the log ("Job failed" when there is none).
        const failure: AgentOutcome = { status: 'error', error: message, metrics: { durationMs: Date.now() - startedAt, inputTokens: 0, outputTokens: 0, toolCalls: 0 } };
        this.bridge(run, failure, false);
        podOfRun.log('agent', `agent-runner finished with error: ${message}`);
        podOfRun.log('agent', resultMarker(failure));
        await this.jobEnds(abort.signal).catch(() => {});
        await podOfRun.finish(false).catch(() => {});
        const outcome = await this.outcomeFromPod(namespace, podOfRun.name);
        await this.finish(run, { phase: 'Failed', error: outcome.error || 'Job failed' });
      } else {
        await this.finish(run, { phase: 'Failed', error: message });
      }
      c.log(`agentrun ${key}: Failed: ${message}`);
    } finally {
      clearTimeout(timer);
      this.active.delete(key);
      c.queue.add(queueKeys.instance(namespace, instanceName));
    }
  }

  /**
   * The agent container takes the run's provider Secret with envFrom and no `optional` (buildContainers), so
   * without it the kubelet cannot start the container: it waits in CreateContainerConfigError, the run stays
   * Running, and the run fails with "timeout" unless the Secret appears, when the container starts after all.
   */
  private async providerSecret(run: AgentRun, pod: RunPod, signal: AbortSignal): Promise<void> {
    const namespace = run.metadata.namespace ?? 'default';
    const secret = run.spec.model?.authSecretRef;
    if (!secret || this.c.secrets.get(namespace, secret)) return pod.started('agent', false);
    await pod.waiting('agent', 'CreateContainerConfigError', `secret "${secret}" not found`);
    this.c.log(`agentrun ${namespace}/${run.metadata.name}: pod ${pod.name}: container agent: CreateContainerConfigError: secret "${secret}" not found`);
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!this.c.secrets.get(namespace, secret)) return;
        finish();
        resolve();
      };
      const off = this.c.secrets.on(() => check());
      const onAbort = () => {
        finish();
        reject(signal.reason);
      };
      const finish = () => {
        off();
        signal.removeEventListener('abort', onAbort);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      check();
    });
    await pod.started('agent', true);
  }

  /** The values of the Secrets the run's agent was given (its authSecretRef and the instance's authRefs). */
  private providerSecretValues(run: AgentRun): string[] {
    const namespace = run.metadata.namespace ?? 'default';
    const instance = this.c.instances.get(namespace, runInstance(run) ?? '');
    const names = new Set([run.spec.model?.authSecretRef, ...(instance?.spec.authRefs ?? []).map((ref) => ref.secret)].filter((name): name is string => Boolean(name)));
    return [...names].flatMap((name) => Object.values(decodeSecret(this.c.secrets.get(namespace, name)) ?? {}));
  }

  /** The agent's containers exit and the Job controller records the end: a moment, not an instant. */
  private jobEnds(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, this.c.timings.jobEndMs);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Reads the agent container's last lines through the API, as extractResultFromPod does; unreadable is empty. */
  private async outcomeFromPod(namespace: string, pod: string): Promise<ReturnType<typeof parseAgentOutcome>> {
    try {
      const response = await this.c.client.textStream(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`, { container: 'agent', tailLines: String(resultTailLines) });
      let text = '';
      for await (const chunk of response) text += chunk;
      return parseAgentOutcome(text);
    } catch {
      return { result: '', error: '' };
    }
  }

  private async finish(run: AgentRun, status: Record<string, unknown>): Promise<void> {
    try {
      await this.c.client.mergePatch(pathOf('runs', run.metadata.namespace, run.metadata.name, 'status'), { status: { ...status, completedAt: now() } });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    // v0.10.46 failRun publishes agent.run.failed {error} once the status says Failed, "so web proxy / channel
    // router can unblock"; v0.5.8 has no such event (profile.runFailedEvent).
    if (status.phase === 'Failed' && this.c.profile.runFailedEvent) {
      this.c.bus.publish(topics.failed, this.eventMetadata(run), { error: String(status.error ?? '') });
    }
  }

  private eventMetadata(run: AgentRun) {
    return { agentRunID: run.metadata.name, instanceName: runInstance(run) ?? '', namespace: run.metadata.namespace ?? 'default' };
  }

  /**
   * The run's ipc-bridge: the agent runner writes /ipc/output/stream-0.json (the whole answer, only when there
   * is one) and then result.json, and the bridge publishes each as it sees it (cmd/agent-runner/main.go,
   * internal/ipc/bridge.go). fsnotify may report them the other way round; `completionFirst` is that race.
   */
  private bridge(run: AgentRun, outcome: AgentOutcome, completionFirst: boolean): void {
    const metadata = this.eventMetadata(run);
    const chunk = () => {
      if (outcome.response) this.c.bus.publish(topics.chunk, metadata, { type: 'text', content: outcome.response, index: 0 });
    };
    if (!completionFirst) chunk();
    this.c.bus.publish(topics.completed, metadata, { ...outcome });
    if (completionFirst) chunk();
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
