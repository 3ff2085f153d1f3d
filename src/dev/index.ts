import { appendFileSync, closeSync } from 'node:fs';
import { openLogForAppend } from '../files/atomic-write.js';
import { KubeClient } from '../kube/client.js';
import type { ResolvedKubeConfig } from '../kube/config.js';
import { KubeApiError } from '../kube/errors.js';
import { defaultRelease, upstreamCrds, type Release } from '../sympozium/releases.js';
import { systemNamespace } from '../sympozium/types.js';
import { startApiServer } from '@sympozium/kube-emulator';
import { builtinPolicies, builtinSkillPacks, controllerDeployment, controllerName, controllerPod, httpRouteCrd } from './controller/builtins.js';
import { Controller } from './controller/index.js';
import { releaseProfile } from './controller/release-profile.js';
import { pathOf } from './controller/resources.js';
import { resolveTimings, timingPresets, type Timings } from './controller/timings.js';

export { echoPrefix, hangMarker } from './providers/index.js';

type ApiServer = Awaited<ReturnType<typeof startApiServer>>;

export interface LocalControlPlaneOptions {
  /** API server port; a free one when absent. */
  port?: number;
  /** The API server's bearer token; a new random one when absent. */
  token?: string;
  /** Keep objects in this file across restarts (the emulator's persistence). */
  stateFile?: string;
  /** A preset name or stage durations; defaults to the `fast` preset (tests). `sympozium dev up` uses `realistic`. */
  timings?: Partial<Timings> | keyof typeof timingPresets;
  /** Append controller and proxy log lines to this file. */
  logFile?: string;
  /** When set, web endpoints get an HTTPRoute and a URL `https://<instance>.<domain>` (or their hostname param). */
  gatewayBaseDomain?: string;
  /** Also receives every log line. */
  log?: (line: string) => void;
  /** Completed task runs kept per instance (upstream: 50). */
  historyLimit?: number;
  /** The upstream release to install and behave as (its CRDs, built-ins and controller); v0.5.8 by default. */
  release?: Release;
}

export interface LocalControlPlane {
  apiServer: ApiServer;
  url: string;
  kubeconfigYaml: ApiServer['kubeconfigYaml'];
  release: Release;
  /** The port of an instance's web proxy listener, when it serves. */
  proxyPort(namespace: string, instance: string): number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts what a Sympozium installation runs, on one machine: the Kubernetes API emulator, the Sympozium CRDs,
 * the built-in SkillPacks and policy presets in sympozium-system, and the controller (with its web proxies and
 * agent). Resolves once the controller's caches are synced, so a caller can apply objects at once.
 */
export async function startLocalControlPlane(options: LocalControlPlaneOptions = {}): Promise<LocalControlPlane> {
  const timings = typeof options.timings === 'string' ? resolveTimings(options.timings) : resolveTimings('fast', options.timings);
  // Created (or narrowed) to 0600 and checked to be a regular file once; the lines below only append.
  if (options.logFile) closeSync(openLogForAppend(options.logFile));
  const log = (line: string) => {
    const stamped = `${new Date().toISOString()} ${line}`;
    if (options.logFile) {
      try {
        appendFileSync(options.logFile, `${stamped}\n`);
      } catch {
        // A log that cannot be written must not stop the control plane.
      }
    }
    options.log?.(stamped);
  };

  const release = options.release ?? defaultRelease;
  const apiServer = await startApiServer({ port: options.port, token: options.token, stateFile: options.stateFile });
  const clients: KubeClient[] = [];
  let controller: Controller | undefined;
  try {
    const clientFor = () => {
      const client = new KubeClient(resolvedConfig(apiServer.httpsUrl, apiServer.token), { requestTimeoutMs: 30_000 });
      clients.push(client);
      return client;
    };
    const client = clientFor();
    await install(client, release, options.gatewayBaseDomain !== undefined, log);
    controller = new Controller({
      client,
      watchClient: clientFor(),
      timings,
      log,
      gatewayBaseDomain: options.gatewayBaseDomain,
      historyLimit: options.historyLimit,
      profile: releaseProfile(release),
      podLogs: apiServer.podLogs,
    });
    await controller.start();
    log(`local control plane ready at ${apiServer.url} (Sympozium ${release})`);
  } catch (error) {
    await controller?.stop().catch(() => undefined);
    for (const client of clients) client.close();
    await apiServer.close();
    throw error;
  }

  let stopped: Promise<void> | undefined;
  const running = controller;
  return {
    apiServer,
    url: apiServer.url,
    release,
    kubeconfigYaml: (...args: Parameters<ApiServer['kubeconfigYaml']>) => apiServer.kubeconfigYaml(...args),
    proxyPort: (namespace, instance) => running.proxyPort(namespace, instance),
    stop: () =>
      (stopped ??= (async () => {
        await running.stop();
        for (const client of clients) client.close();
        await apiServer.close();
        log('local control plane stopped');
      })()),
  };
}

function resolvedConfig(server: string, token: string): ResolvedKubeConfig {
  return {
    files: [],
    contextName: 'sympozium-dev',
    clusterName: 'sympozium-dev',
    userName: 'sympozium-controller',
    server,
    namespace: 'default',
    namespaceFromContext: false,
    insecureSkipTlsVerify: true,
    token,
    inCluster: false,
  };
}

/** CRDs (waiting until Established), the system namespace, built-in SkillPacks and the policy presets. */
async function install(client: KubeClient, release: Release, withGateway: boolean, log: (line: string) => void): Promise<void> {
  const crds = [...upstreamCrds(release), ...(withGateway ? [httpRouteCrd()] : [])];
  for (const crd of crds) await createOrUpdate(client, pathOf('crds'), crd as { metadata: { name: string } });
  for (const crd of crds) await waitEstablished(client, (crd as { metadata: { name: string } }).metadata.name);
  await createOrKeep(client, pathOf('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: systemNamespace } });
  const skillPacks = builtinSkillPacks(release);
  const policies = builtinPolicies(release);
  for (const pack of skillPacks) {
    const { metadata, spec } = pack as { metadata: { name: string }; spec: { skills: unknown[] } };
    await createOrUpdate(client, pathOf('skillPacks', systemNamespace), pack as { metadata: { name: string } });
    // What upstream's SkillPack controller reports once it has rendered the pack's ConfigMap.
    await client.mergePatch(pathOf('skillPacks', systemNamespace, metadata.name, 'status'), {
      status: { phase: 'Ready', skillCount: spec.skills.length, configMapName: `skillpack-${metadata.name}` },
    });
  }
  for (const policy of policies) await createOrUpdate(client, pathOf('policies', systemNamespace), policy as { metadata: { name: string } });
  await installControllerObjects(client, release);
  log(`installed Sympozium ${release}: ${crds.length} CRDs, ${skillPacks.length} built-in SkillPacks and ${policies.length} policy presets`);
}

/** The controller's Deployment and pod, Running and ready (the controller itself runs in this process). */
async function installControllerObjects(client: KubeClient, release: Release): Promise<void> {
  await createOrUpdate(client, pathOf('deployments', systemNamespace), controllerDeployment(release) as { metadata: { name: string } });
  await createOrUpdate(client, pathOf('pods', systemNamespace), controllerPod(release) as { metadata: { name: string } });
  const started = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const pod = controllerPod(release) as { metadata: { name: string } };
  await client.mergePatch(pathOf('pods', systemNamespace, pod.metadata.name, 'status'), {
    status: {
      phase: 'Running',
      podIP: '127.0.0.1',
      startTime: started,
      conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: started })),
      containerStatuses: [{ name: 'manager', ready: true, started: true, restartCount: 0, image: releaseProfile(release).controllerImage, imageID: '', state: { running: { startedAt: started } } }],
    },
  });
  const deployment = await client.get<{ metadata: { generation?: number } }>(pathOf('deployments', systemNamespace, controllerName));
  await client.mergePatch(pathOf('deployments', systemNamespace, controllerName, 'status'), {
    status: {
      observedGeneration: deployment.metadata.generation ?? 1,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
      conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }],
    },
  });
}

async function createOrKeep(client: KubeClient, collection: string, body: { metadata: { name: string }; [key: string]: unknown }): Promise<void> {
  try {
    await client.create(collection, body);
  } catch (error) {
    if (!(error instanceof KubeApiError && error.code === 409)) throw error;
  }
}

/** Creates the object, or replaces what a persisted state holds so upgrades of the built-ins take effect. */
async function createOrUpdate(client: KubeClient, collection: string, body: { metadata: { name: string }; [key: string]: unknown }): Promise<void> {
  try {
    await client.create(collection, body);
  } catch (error) {
    if (!(error instanceof KubeApiError && error.code === 409)) throw error;
    const path = `${collection}/${encodeURIComponent(body.metadata.name)}`;
    const current = await client.get<{ metadata: { resourceVersion?: string } }>(path);
    await client.replace(path, { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } });
  }
}

async function waitEstablished(client: KubeClient, name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const crd = await client.get<{ status?: { conditions?: { type: string; status: string }[] } }>(`${pathOf('crds')}/${name}`);
    if (crd.status?.conditions?.some((item) => item.type === 'Established' && item.status === 'True')) return;
    if (Date.now() > deadline) throw new Error(`CRD ${name} did not become Established within 10s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
