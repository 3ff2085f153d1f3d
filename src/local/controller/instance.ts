import { labels, runInstance, systemNamespace, type Condition, type SympoziumInstance, type SympoziumInstanceStatus } from '../../sympozium/types.js';
import type { ControllerContext } from './context.js';
import { queueKeys } from './context.js';
import { deleteIfExists, instanceFinalizer, now, pathOf, stableJson } from './resources.js';
import { reconcileWebEndpoint, teardownWebEndpoint } from './web-endpoint.js';

/**
 * The SympoziumInstance reconciler: finalizer, Pending before the first full reconcile, then Running, Serving
 * (its web endpoint serves) or Error (something it needs is missing, with a Ready=False condition saying what),
 * channel health from channel Secrets, run counts, and conditions carrying observedGeneration so
 * `kubectl wait --for=condition=Ready` works. Deleting the instance removes everything it created.
 */
export class InstanceReconciler {
  /** Instances shown as Pending, and until when (the simulated first-reconcile delay). */
  private readonly pendingUntil = new Map<string, number>();
  /** Runs already counted into status.totalAgentRuns, per instance. */
  private readonly counted = new Map<string, Set<string>>();

  constructor(private readonly c: ControllerContext) {}

  async reconcile(namespace: string, name: string): Promise<void> {
    const c = this.c;
    const key = `${namespace}/${name}`;
    const instance = c.instances.get(namespace, name);
    const path = pathOf('instances', namespace, name);
    if (!instance) {
      await c.proxies.stop(namespace, name);
      this.pendingUntil.delete(key);
      this.counted.delete(key);
      return;
    }
    const finalizers = instance.metadata.finalizers ?? [];
    if (instance.metadata.deletionTimestamp) {
      if (!finalizers.includes(instanceFinalizer)) return;
      await this.cleanup(instance);
      await c.client.mergePatch(path, {
        metadata: { finalizers: finalizers.filter((item) => item !== instanceFinalizer), resourceVersion: instance.metadata.resourceVersion },
      });
      c.log(`instance ${key}: cleaned up and released`);
      return;
    }
    if (!finalizers.includes(instanceFinalizer)) {
      await c.client.mergePatch(path, { metadata: { finalizers: [...finalizers, instanceFinalizer], resourceVersion: instance.metadata.resourceVersion } });
      return; // the update event brings us back
    }
    const generation = instance.metadata.generation ?? 1;
    if (!instance.status?.phase) {
      // Already written, the cache has not caught up yet.
      if (this.pendingUntil.has(key)) return;
      this.pendingUntil.set(key, Date.now() + c.timings.instanceReconcileMs);
      await this.patchStatus(instance, {
        phase: 'Pending',
        observedGeneration: generation,
        conditions: [condition(instance, 'Ready', 'False', 'Reconciling', 'The controller is setting the instance up.')],
      });
      c.queue.addAfter(queueKeys.instance(namespace, name), c.timings.instanceReconcileMs);
      return;
    }
    const until = this.pendingUntil.get(key);
    if (until !== undefined && Date.now() < until) {
      c.queue.addAfter(queueKeys.instance(namespace, name), until - Date.now());
      return;
    }
    this.pendingUntil.delete(key);

    const problems: string[] = [];
    for (const ref of instance.spec.authRefs ?? []) {
      if (!c.secrets.get(namespace, ref.secret)) problems.push(`Secret "${ref.secret}" named in spec.authRefs does not exist`);
    }
    if (instance.spec.policyRef && !(await this.policyExists(namespace, instance.spec.policyRef))) {
      problems.push(`SympoziumPolicy "${instance.spec.policyRef}" (spec.policyRef) not found in ${namespace} or ${systemNamespace}`);
    }
    const checkedAt = now();
    const previousChannels = instance.status?.channels ?? [];
    const channels = (instance.spec.channels ?? []).map((channel, index) => {
      const exists = Boolean(c.secrets.get(namespace, channel.configRef?.secret));
      const entry = {
        type: channel.type,
        status: exists ? ('Connected' as const) : ('Error' as const),
        message: exists ? `Secret "${channel.configRef.secret}" found` : `Secret "${channel.configRef?.secret}" not found`,
      };
      const previous = previousChannels[index];
      const unchanged = previous && previous.type === entry.type && previous.status === entry.status && previous.message === entry.message;
      return { ...entry, lastHealthCheck: unchanged && previous.lastHealthCheck ? previous.lastHealthCheck : checkedAt };
    });

    const web = await reconcileWebEndpoint(c, instance);
    if (web?.problem) problems.push(web.problem);

    const runs = c.runs.list((run) => run.metadata.namespace === namespace && runInstance(run) === name);
    const active = runs.filter((run) => run.status?.phase === 'Running' || run.status?.phase === 'Serving').length;
    const total = this.countRuns(key, runs.map((run) => run.metadata.uid ?? run.metadata.name), instance.status?.totalAgentRuns ?? 0);

    const phase = problems.length > 0 ? 'Error' : web?.status === 'Ready' ? 'Serving' : 'Running';
    const conditions: Condition[] = [
      problems.length > 0
        ? condition(instance, 'Ready', 'False', 'MissingDependency', problems.join('; '))
        : condition(instance, 'Ready', 'True', 'Reconciled', phase === 'Serving' ? 'The instance is running and its web endpoint serves.' : 'The instance is running.'),
    ];
    if (web) {
      conditions.push(
        web.status === 'Ready'
          ? condition(instance, 'WebEndpointReady', 'True', 'Serving', 'The web proxy is ready.')
          : condition(instance, 'WebEndpointReady', 'False', web.status === 'Error' ? 'Error' : 'Pending', web.problem ?? 'Waiting for the web proxy pod.'),
      );
    }
    const { problem: _problem, ...webStatus } = web ?? {};
    await this.patchStatus(instance, {
      phase,
      observedGeneration: generation,
      conditions,
      channels: channels.length > 0 ? channels : null,
      activeAgentPods: active,
      totalAgentRuns: total,
      webEndpoint: web ? webStatus : null,
    });
  }

  private countRuns(key: string, ids: string[], previousTotal: number): number {
    let seen = this.counted.get(key);
    if (!seen) {
      // First look since start: trust the recorded total, which already includes runs that were pruned.
      this.counted.set(key, new Set(ids));
      return Math.max(previousTotal, ids.length);
    }
    let added = 0;
    for (const id of ids) {
      if (!seen.has(id)) {
        seen.add(id);
        added += 1;
      }
    }
    return previousTotal + added;
  }

  private async policyExists(namespace: string, name: string): Promise<boolean> {
    for (const ns of [namespace, systemNamespace]) {
      if (await this.c.client.getOrUndefined(pathOf('policies', ns, name))) return true;
    }
    return false;
  }

  /** Everything the instance created: the web endpoint and the runs labelled with it. */
  private async cleanup(instance: SympoziumInstance): Promise<void> {
    const namespace = instance.metadata.namespace ?? 'default';
    await teardownWebEndpoint(this.c, instance);
    const runs = this.c.runs.list(
      (run) => run.metadata.namespace === namespace && (run.metadata.labels?.[labels.instance] === instance.metadata.name || runInstance(run) === instance.metadata.name),
    );
    for (const run of runs) await deleteIfExists(this.c.client, pathOf('runs', namespace, run.metadata.name));
    await this.c.proxies.stop(namespace, instance.metadata.name);
  }

  /** A merge patch of status, sent only when something other than timestamps changed. */
  private async patchStatus(instance: SympoziumInstance, status: Record<string, unknown>): Promise<void> {
    const current = (instance.status ?? {}) as Record<string, unknown>;
    const changed = Object.entries(status).some(([field, value]) => stableJson(withoutTimes(current[field] ?? null)) !== stableJson(withoutTimes(value)));
    if (!changed) return;
    await this.c.client.mergePatch(pathOf('instances', instance.metadata.namespace, instance.metadata.name, 'status'), { status });
    if (status.phase !== current.phase) this.c.log(`instance ${instance.metadata.namespace}/${instance.metadata.name}: ${String(status.phase)}`);
  }
}

/** A condition whose lastTransitionTime moves only when its status does. */
function condition(instance: SympoziumInstance, type: string, status: Condition['status'], reason: string, message: string): Condition {
  const previous = instance.status?.conditions?.find((item) => item.type === type);
  return {
    type,
    status,
    reason,
    message,
    lastTransitionTime: previous && previous.status === status && previous.lastTransitionTime ? previous.lastTransitionTime : now(),
    observedGeneration: instance.metadata.generation ?? 1,
  };
}

function withoutTimes(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null, (key, item) => (key === 'lastTransitionTime' || key === 'lastHealthCheck' ? undefined : item)));
}
