import { createHash, randomBytes } from 'node:crypto';
import { labels, names, runInstance, systemNamespace, type AgentRun } from '../../sympozium/types.js';
import { isWebEndpointSkill } from '../../sympozium/web-endpoint.js';
import { queueKeys, type ControllerContext, type Deployment, type Pod } from './context.js';
import { policyFailure } from './policy.js';
import { agentRunLabel, createIfMissing, deleteIfExists, isNotFound, now, ownerReference, pathOf, stableJson } from './resources.js';

/**
 * The AgentRun side of a server-mode run, doing what upstream's AgentRun reconciler, the ReplicaSet controller
 * and the kubelet would: a Deployment and a ClusterIP Service `<run>-server` (port 8080), one Running and Ready
 * pod after the pod start-up delay, the Deployment's status, and the run's phase Serving. The pod's
 * `local.sympozium.ai/port-forward` annotation tells the emulator's port-forward to bridge port 8080 to the
 * local web proxy, so `kubectl port-forward svc/<run>-server` reaches it like in a cluster.
 */

export const portForwardAnnotation = 'local.sympozium.ai/port-forward';
const proxyImage = 'ghcr.io/sympozium-ai/sympozium/web-proxy:local';
/** reconcilePendingServer's component label for the server Deployment, its pods and its Service. */
export const serverComponent = 'agent-server';

export class ServerRuns {
  /** When the pod of a Deployment that has none may appear (simulated scheduling and start-up). */
  private readonly podDue = new Map<string, number>();

  constructor(private readonly c: ControllerContext) {}

  /** The run is gone: remove what was created for it (owner references are not garbage-collected here). */
  async cleanup(namespace: string, runName: string): Promise<void> {
    const serverName = names.serverDeployment(runName);
    this.podDue.delete(`${namespace}/${runName}`);
    if (this.c.deployments.get(namespace, serverName)) await deleteIfExists(this.c.client, pathOf('deployments', namespace, serverName));
    if (this.c.services.get(namespace, serverName)) await deleteIfExists(this.c.client, pathOf('services', namespace, serverName));
    for (const pod of this.podsOf(namespace, runName)) await deleteIfExists(this.c.client, pathOf('pods', namespace, pod.metadata.name));
  }

  private podsOf(namespace: string, runName: string): Pod[] {
    return this.c.pods.list((pod) => pod.metadata.namespace === namespace && pod.metadata.labels?.[agentRunLabel] === runName);
  }

  async reconcile(run: AgentRun): Promise<void> {
    const c = this.c;
    const namespace = run.metadata.namespace ?? 'default';
    const runName = run.metadata.name;
    const instance = runInstance(run) ?? '';
    const serverName = names.serverDeployment(runName);
    const key = `${namespace}/${runName}`;
    if (run.metadata.deletionTimestamp) return;
    // A Failed server run stays Failed and is never replaced while it exists, as upstream.
    if (run.status?.phase === 'Failed') return;
    if (!run.status?.phase) {
      const rejected = await policyFailure(c, run);
      if (rejected) {
        await c.client.mergePatch(pathOf('runs', namespace, runName, 'status'), { status: { phase: 'Failed', error: rejected, completedAt: now() } });
        c.log(`agentrun ${key}: Failed: ${rejected}`);
        return;
      }
    }
    // The instance reconcile starts the proxy; until it has, there is nothing for the pod to point at.
    const port = c.proxies.port(namespace, instance);
    if (port === undefined) {
      c.queue.add(queueKeys.instance(namespace, instance));
      return;
    }
    // reconcilePendingServer's labels, on the Deployment, its pod template and selector, and the Service (both releases).
    const podLabels = {
      [agentRunLabel]: runName,
      [labels.instance]: instance,
      [labels.component]: serverComponent,
      'app.kubernetes.io/part-of': 'sympozium',
      'app.kubernetes.io/managed-by': 'sympozium-controller',
    };

    let deployment = c.deployments.get(namespace, serverName);
    if (!deployment) {
      const sidecar = await serverSidecar(c, run);
      deployment = (await createIfMissing<Deployment>(c.client, pathOf('deployments', namespace), deploymentManifest(run, serverName, podLabels, sidecar))) ?? undefined;
      if (deployment) c.log(`agentrun ${key}: created Deployment ${serverName}`);
    }
    if (!c.services.get(namespace, serverName)) {
      const service = await createIfMissing(c.client, pathOf('services', namespace), serviceManifest(run, serverName, podLabels));
      if (service) c.log(`agentrun ${key}: created Service ${serverName}`);
    }
    if (!deployment) return;

    await this.patchRunStatus(run, { phase: 'Serving', deploymentName: serverName, serviceName: serverName });

    const generation = deployment.metadata.generation ?? 1;
    const pods = this.podsOf(namespace, runName).filter((pod) => !pod.metadata.deletionTimestamp);
    const rollingOut = deployment.status?.observedGeneration !== undefined && deployment.status.observedGeneration !== generation;
    if (rollingOut && pods.length > 0) {
      // A changed pod template (e.g. `kubectl rollout restart`): replace the pod, as a rolling update would.
      for (const pod of pods) await deleteIfExists(c.client, pathOf('pods', namespace, pod.metadata.name));
      await this.patchDeploymentStatus(deployment, { observedGeneration: generation, replicas: 1, updatedReplicas: 0, readyReplicas: 0, availableReplicas: 0, unavailableReplicas: 1 });
      c.log(`agentrun ${key}: restarting the server pod (Deployment generation ${generation})`);
      return;
    }
    if (pods.length === 0) {
      const due = this.podDue.get(key);
      if (due === undefined) {
        this.podDue.set(key, Date.now() + c.timings.podReadyMs);
        c.queue.addAfter(queueKeys.run(namespace, runName), c.timings.podReadyMs);
        await this.patchDeploymentStatus(deployment, { observedGeneration: generation, replicas: 1, updatedReplicas: 1, readyReplicas: 0, availableReplicas: 0, unavailableReplicas: 1 });
        return;
      }
      if (Date.now() < due) {
        c.queue.addAfter(queueKeys.run(namespace, runName), due - Date.now());
        return;
      }
      this.podDue.delete(key);
      const pod = await this.createPod(deployment, run, podLabels, port);
      await this.patchRunStatus(run, { podName: pod.metadata.name });
    } else {
      const pod = pods[0]!;
      const wanted = JSON.stringify({ '8080': `127.0.0.1:${port}` });
      if (pod.metadata.annotations?.[portForwardAnnotation] !== wanted) {
        await c.client.mergePatch(pathOf('pods', namespace, pod.metadata.name), { metadata: { annotations: { [portForwardAnnotation]: wanted } } });
        // The web endpoint is Ready again only once the pod points at the (new) proxy.
        c.queue.addAfter(queueKeys.instance(namespace, instance), 50);
      }
      for (const extra of pods.slice(1)) await deleteIfExists(c.client, pathOf('pods', namespace, extra.metadata.name));
      await this.patchRunStatus(run, { podName: pod.metadata.name });
    }
    const changed = await this.patchDeploymentStatus(deployment, {
      observedGeneration: generation,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
      unavailableReplicas: 0,
      conditions: [
        { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${serverName}" has successfully progressed.` },
      ],
    });
    // The instance's web endpoint becomes Ready when the Deployment does.
    if (changed) c.queue.add(queueKeys.instance(namespace, instance));
  }

  private async createPod(deployment: Deployment, run: AgentRun, podLabels: Record<string, string>, port: number): Promise<Pod> {
    const namespace = run.metadata.namespace ?? 'default';
    const template = stableJson((deployment.spec as { template?: unknown } | undefined)?.template ?? {});
    const hash = createHash('sha256').update(template).digest('hex').slice(0, 10);
    const name = `${deployment.metadata.name}-${hash}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    const started = now();
    const pod = await this.c.client.create<Pod>(pathOf('pods', namespace), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace,
        labels: podLabels,
        // The template's annotations (kubectl rollout restart's restartedAt) are the pod's, as a ReplicaSet copies them.
        annotations: { ...templateAnnotations(deployment), [portForwardAnnotation]: JSON.stringify({ '8080': `127.0.0.1:${port}` }) },
        ownerReferences: [{ ...ownerReference(deployment), apiVersion: 'apps/v1', kind: 'Deployment' }],
      },
      // The pod is made from the Deployment's template, as the ReplicaSet controller makes it.
      spec: (deployment.spec as { template?: { spec?: unknown } } | undefined)?.template?.spec ?? {},
    });
    const status = {
      phase: 'Running',
      podIP: '127.0.0.1',
      hostIP: '127.0.0.1',
      startTime: started,
      conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: started })),
      containerStatuses: [{ name: 'web-proxy', ready: true, started: true, restartCount: 0, image: proxyImage, imageID: '', state: { running: { startedAt: started } } }],
    };
    try {
      await this.c.client.mergePatch(pathOf('pods', namespace, name, 'status'), { status });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.c.client.mergePatch(pathOf('pods', namespace, name), { status });
    }
    this.c.log(`agentrun ${namespace}/${run.metadata.name}: pod ${name} Running (port 8080 -> 127.0.0.1:${port})`);
    // A new web-proxy process: it reads WEB_PROXY_API_KEY as the Secret is now, and starts a fresh token bucket.
    this.c.proxies.podStarted(namespace, runInstance(run) ?? '');
    // What upstream's web-proxy container prints first (cmd/web-proxy/main.go, both releases).
    this.c.podLogs?.append(namespace, name, 'web-proxy', webProxyLogLine('Starting web-proxy', { addr: ':8080', instance: runInstance(run) ?? '' }));
    return pod;
  }

  private async patchRunStatus(run: AgentRun, fields: Record<string, unknown>): Promise<void> {
    const current = (run.status ?? {}) as Record<string, unknown>;
    if (Object.entries(fields).every(([field, value]) => current[field] === value)) return;
    const status = { ...fields, ...(current.startedAt ? {} : { startedAt: now() }) };
    await this.c.client.mergePatch(pathOf('runs', run.metadata.namespace, run.metadata.name, 'status'), { status });
    if (fields.phase && current.phase !== fields.phase) this.c.log(`agentrun ${run.metadata.namespace}/${run.metadata.name}: ${fields.phase}`);
  }

  private async patchDeploymentStatus(deployment: Deployment, status: Record<string, unknown>): Promise<boolean> {
    const current = (deployment.status ?? {}) as Record<string, unknown>;
    if (Object.entries(status).every(([field, value]) => stableJson(current[field]) === stableJson(value))) return false;
    await this.c.client.mergePatch(pathOf('deployments', deployment.metadata.namespace, deployment.metadata.name, 'status'), { status });
    return true;
  }
}

function templateAnnotations(deployment: Deployment): Record<string, string> {
  return (deployment.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined)?.template?.metadata?.annotations ?? {};
}

/** What the pod needs of the web-endpoint SkillPack's sidecar: its env and resource requests. */
interface ServerSidecar {
  env: { name: string; value?: string }[];
  resources?: { cpu?: string; memory?: string };
}

/**
 * The SkillPack the server run's web-endpoint skill names, looked up as resolveSkillSidecars does: in the run's
 * namespace, then in sympozium-system (where upstream's chart, and dev, install the built-in ones).
 */
async function serverSidecar(c: ControllerContext, run: AgentRun): Promise<ServerSidecar> {
  const skill = (run.spec.skills ?? []).find(isWebEndpointSkill);
  const name = skill?.skillPackRef ?? 'web-endpoint';
  for (const namespace of [run.metadata.namespace ?? 'default', systemNamespace]) {
    const pack = await c.client.getOrUndefined<{ spec?: { sidecar?: ServerSidecar } }>(pathOf('skillPacks', namespace, name));
    if (pack) return { env: pack.spec?.sidecar?.env ?? [], resources: pack.spec?.sidecar?.resources };
  }
  return { env: [] };
}

/**
 * The one container upstream's reconcilePendingServer runs in the server pod (agentrun_controller.go, both
 * releases): web-proxy, with the sidecar's env, INSTANCE_NAME, WEB_PROXY_API_KEY from the key Secret (the
 * auth_secret_ref param's or `<instance>-web-proxy-key`), RATE_LIMIT_RPM/BURST and SKILL_<PARAM> from the skill's
 * params, probes on /healthz. The proxy reads its key once, when the pod starts.
 */
function podSpec(run: AgentRun, sidecar: ServerSidecar) {
  const instance = runInstance(run) ?? '';
  const params = (run.spec.skills ?? []).find(isWebEndpointSkill)?.params ?? {};
  const keySecret = params.auth_secret_ref || names.webProxyKeySecret(instance);
  const env: Record<string, unknown>[] = [
    ...sidecar.env.map(({ name, value }) => ({ name, value: value ?? '' })),
    { name: 'INSTANCE_NAME', value: instance },
    { name: 'WEB_PROXY_API_KEY', valueFrom: { secretKeyRef: { name: keySecret, key: 'api-key' } } },
    ...(params.rate_limit_rpm !== undefined ? [{ name: 'RATE_LIMIT_RPM', value: params.rate_limit_rpm }] : []),
    ...(params.rate_limit_burst !== undefined ? [{ name: 'RATE_LIMIT_BURST', value: params.rate_limit_burst }] : []),
    // Go ranges over the params map in random order; sorted here so the template (and its hash) is stable.
    ...Object.keys(params)
      .sort()
      .map((key) => ({ name: `SKILL_${key.toUpperCase()}`, value: params[key] })),
  ];
  const probe = (initialDelaySeconds: number, periodSeconds: number) => ({ httpGet: { path: '/healthz', port: 8080 }, initialDelaySeconds, periodSeconds });
  return {
    restartPolicy: 'Always',
    serviceAccountName: 'sympozium-agent',
    containers: [
      {
        name: 'web-proxy',
        image: proxyImage,
        imagePullPolicy: 'IfNotPresent',
        env,
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
        livenessProbe: probe(5, 10),
        readinessProbe: probe(3, 5),
        resources: {
          requests: { cpu: sidecar.resources?.cpu || '100m', memory: sidecar.resources?.memory || '128Mi' },
          limits: { cpu: '500m', memory: '256Mi' },
        },
        securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
      },
    ],
  };
}

function deploymentManifest(run: AgentRun, name: string, podLabels: Record<string, string>, sidecar: ServerSidecar) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: run.metadata.namespace,
      labels: podLabels,
      ownerReferences: [ownerReference(run)],
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: podLabels },
      template: { metadata: { labels: podLabels }, spec: podSpec(run, sidecar) },
    },
  };
}

function serviceManifest(run: AgentRun, name: string, podLabels: Record<string, string>) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: run.metadata.namespace, labels: podLabels, ownerReferences: [ownerReference(run)] },
    spec: {
      type: 'ClusterIP',
      selector: podLabels,
      ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }],
    },
  };
}

/**
 * One line as upstream's web-proxy logs it: controller-runtime's zap logger in production mode (JSON, RFC 3339
 * times, the logger named "web-proxy"; cmd/web-proxy/main.go), the key/value pairs as fields.
 */
export function webProxyLogLine(message: string, fields: Record<string, string>): string {
  return JSON.stringify({ level: 'info', ts: new Date().toISOString(), logger: 'web-proxy', msg: message, ...fields });
}
