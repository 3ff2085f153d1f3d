import { labels, runInstance, type SympoziumInstance } from '../../sympozium/types.js';
import type { ControllerContext } from './context.js';
import { queueKeys } from './context.js';
import { deleteIfExists, instanceFinalizer, now, pathOf, stableJson } from './resources.js';
import { instancePath } from './release-profile.js';
import { reconcileWebEndpoint, teardownWebEndpoint } from './web-endpoint.js';

/**
 * The SympoziumInstance reconciler, as upstream's (internal/controller/sympoziuminstance_controller.go): a
 * finalizer, an empty phase until the first reconcile, then Running, or Serving while a run of the instance
 * serves; channel health and activeAgentPods. Like upstream it never writes webEndpoint, conditions,
 * observedGeneration or totalAgentRuns. Deleting the instance removes everything it created.
 */
export class InstanceReconciler {
  /** Instances shown as Pending, and until when (the simulated first-reconcile delay). */
  private readonly pendingUntil = new Map<string, number>();

  constructor(private readonly c: ControllerContext) {}

  async reconcile(namespace: string, name: string): Promise<void> {
    const c = this.c;
    const key = `${namespace}/${name}`;
    const instance = c.instances.get(namespace, name);
    const path = instancePath(c.profile, namespace, name);
    if (!instance) {
      await c.proxies.stop(namespace, name);
      this.pendingUntil.delete(key);
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
    if (!instance.status?.phase && !this.pendingUntil.has(key)) {
      // Upstream writes nothing before its first reconcile; the phase stays empty for the simulated delay.
      this.pendingUntil.set(key, Date.now() + c.timings.instanceReconcileMs);
      c.queue.addAfter(queueKeys.instance(namespace, name), c.timings.instanceReconcileMs);
      return;
    }
    const until = this.pendingUntil.get(key);
    if (until !== undefined && Date.now() < until) {
      c.queue.addAfter(queueKeys.instance(namespace, name), until - Date.now());
      return;
    }
    this.pendingUntil.delete(key);

    // Upstream (sympoziuminstance_controller.go) checks neither the provider Secret nor the policy here: the
    // policy is checked by the AgentRun reconciler, and only a channel it cannot reconcile gives Error.
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

    await reconcileWebEndpoint(c, instance);

    const runs = c.runs.list((run) => run.metadata.namespace === namespace && runInstance(run) === name);
    const active = runs.filter((run) => run.status?.phase === 'Running' || run.status?.phase === 'Serving').length;
    const serving = runs.some((run) => run.status?.phase === 'Serving');
    await this.patchStatus(instance, {
      phase: serving ? 'Serving' : 'Running',
      channels: channels.length > 0 ? channels : null,
      activeAgentPods: active,
    });
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
    await this.c.client.mergePatch(instancePath(this.c.profile, instance.metadata.namespace, instance.metadata.name, 'status'), { status });
    if (status.phase !== current.phase) this.c.log(`instance ${instance.metadata.namespace}/${instance.metadata.name}: ${String(status.phase)}`);
  }
}

function withoutTimes(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null, (key, item) => (key === 'lastTransitionTime' || key === 'lastHealthCheck' ? undefined : item)));
}
