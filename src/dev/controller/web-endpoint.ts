import { randomBytes } from 'node:crypto';
import {
  apiVersion,
  components,
  labels,
  names,
  webEndpointDefaults,
  webEndpointParams,
  type AgentRun,
  type SkillRef,
  type SympoziumInstance,
  type SympoziumInstanceStatus,
} from '../../sympozium/types.js';
import { findWebEndpointSkill } from '../../sympozium/web-endpoint.js';
import { queueKeys, type ControllerContext } from './context.js';
import { portForwardAnnotation } from './server-run.js';
import { agentRunLabel, createIfMissing, decodeSecret, deleteIfExists, ownerReference, pathOf, stableJson } from './resources.js';

/**
 * The instance side of the web endpoint, as docs/sympozium-contract.md §2-4 describes it: the server-mode AgentRun,
 * the API-key Secret, the HTTPRoute when a gateway is configured, and the local proxy that stands in for the run's
 * web-proxy sidecar. Unlike upstream, removing the skill tears it all down and changing the rate-limit params
 * reconfigures the running proxy.
 */

interface WebEndpointDesired {
  rpm: number;
  burst: number;
  hostname?: string;
  authSecretRef?: string;
  skill: SkillRef;
}

function positive(value: unknown, fallback: number): number {
  const number = Number(value);
  return Number.isFinite(number) && number > 0 ? number : fallback;
}

function desiredWebEndpoint(instance: SympoziumInstance): WebEndpointDesired | undefined {
  const skill = findWebEndpointSkill(instance);
  const legacy = instance.spec.webEndpoint;
  if (!skill && legacy?.enabled !== true) return undefined;
  const params = skill?.params ?? {};
  const rpm = positive(params[webEndpointParams.rpm] ?? legacy?.rateLimit?.requestsPerMinute, webEndpointDefaults.rpm);
  const burst = positive(params[webEndpointParams.burst] ?? legacy?.rateLimit?.burstSize, webEndpointDefaults.burst);
  const hostname = params[webEndpointParams.hostname] || legacy?.hostname || undefined;
  const authSecretRef = params[webEndpointParams.authSecretRef] || legacy?.authSecretRef || undefined;
  const effectiveParams: Record<string, string> = { ...params, [webEndpointParams.rpm]: String(rpm), [webEndpointParams.burst]: String(burst) };
  return { rpm, burst, hostname, authSecretRef, skill: { skillPackRef: skill?.skillPackRef ?? 'web-endpoint', params: effectiveParams } };
}

export type WebEndpointStatus = NonNullable<SympoziumInstanceStatus['webEndpoint']> & { problem?: string };

export async function reconcileWebEndpoint(c: ControllerContext, instance: SympoziumInstance): Promise<WebEndpointStatus | undefined> {
  const desired = desiredWebEndpoint(instance);
  if (!desired) {
    await teardownWebEndpoint(c, instance);
    return undefined;
  }
  const namespace = instance.metadata.namespace ?? 'default';
  const name = instance.metadata.name;
  const runName = names.webEndpointRun(name);

  const run = await ensureServerRun(c, instance, desired);

  let keySecretName: string;
  let problem: string | undefined;
  if (desired.authSecretRef) {
    keySecretName = desired.authSecretRef;
    const data = decodeSecret(c.secrets.get(namespace, keySecretName));
    if (!data) problem = `Secret "${keySecretName}" named by the web-endpoint auth_secret_ref param does not exist`;
    else if (!data['api-key']) problem = `Secret "${keySecretName}" named by the web-endpoint auth_secret_ref param has no api-key`;
  } else {
    keySecretName = names.webProxyKeySecret(name);
    if (!c.secrets.get(namespace, keySecretName)) await createKeySecret(c, instance, run, keySecretName);
  }

  const port = await c.proxies.ensure({ namespace, instance: name, rpm: desired.rpm, burst: desired.burst, keySecretName });
  // The server run's pod must point at the proxy: let its reconcile know when the proxy is new or moved.
  const pod = c.pods.list((item) => item.metadata.namespace === namespace && item.metadata.labels?.[agentRunLabel] === runName)[0];
  const podReachesProxy = Boolean(pod?.metadata.annotations?.[portForwardAnnotation]?.includes(`:${port}"`));
  if (!podReachesProxy) c.queue.add(queueKeys.run(namespace, runName));

  let url: string | undefined;
  if (c.gatewayBaseDomain) {
    const hostname = desired.hostname ?? `${name}.${c.gatewayBaseDomain}`;
    await ensureRoute(c, instance, runName, hostname);
    url = `https://${hostname}`;
  }

  const deployment = c.deployments.get(namespace, names.serverDeployment(runName));
  const ready =
    podReachesProxy &&
    run?.status?.phase === 'Serving' &&
    (deployment?.status?.readyReplicas ?? 0) >= 1 &&
    deployment?.status?.observedGeneration === deployment?.metadata.generation;
  return {
    status: problem ? 'Error' : ready ? 'Ready' : 'Pending',
    ...(url ? { url } : {}),
    authSecretName: keySecretName,
    ...(problem ? { problem } : {}),
  };
}

async function ensureServerRun(c: ControllerContext, instance: SympoziumInstance, desired: WebEndpointDesired): Promise<AgentRun | undefined> {
  const namespace = instance.metadata.namespace ?? 'default';
  const name = instance.metadata.name;
  const runName = names.webEndpointRun(name);
  const authRef = instance.spec.authRefs?.[0];
  const model = {
    provider: authRef?.provider ?? (instance.spec.agents?.default?.baseURL ? 'custom' : 'openai'),
    model: instance.spec.agents?.default?.model ?? 'unknown',
    ...(instance.spec.agents?.default?.baseURL ? { baseURL: instance.spec.agents.default.baseURL } : {}),
    authSecretRef: authRef?.secret ?? '',
  };
  const skills = [desired.skill];
  const existing = c.runs.get(namespace, runName);
  if (existing) {
    if (stableJson(existing.spec.skills) !== stableJson(skills) || stableJson(existing.spec.model) !== stableJson(model)) {
      await c.client.mergePatch(pathOf('runs', namespace, runName), { spec: { skills, model } });
      c.log(`instance ${namespace}/${name}: web endpoint reconfigured (rate limit ${desired.rpm}/min, burst ${desired.burst})`);
    }
    return existing;
  }
  const created = await createIfMissing<AgentRun>(c.client, pathOf('runs', namespace), {
    apiVersion,
    kind: 'AgentRun',
    metadata: {
      name: runName,
      namespace,
      labels: { [labels.instance]: name, [labels.component]: components.webEndpoint },
      ownerReferences: [ownerReference(instance)],
    },
    spec: {
      // As upstream's ensureWebEndpointAgentRun, in both releases.
      [c.profile.runRef]: name,
      agentId: 'web-endpoint',
      sessionKey: 'web-endpoint',
      task: 'Serve HTTP requests for this instance',
      model,
      skills,
      mode: 'server',
      ...(c.profile.serverRunInheritsPodSettings ? inheritedPodSettings(instance) : {}),
    },
  });
  if (created) c.log(`instance ${namespace}/${name}: created the server AgentRun ${runName}`);
  return created ?? c.runs.get(namespace, runName);
}

/** v0.10's server run also carries the Agent's pull secrets, volumes and default agent env (agent_controller.go). */
function inheritedPodSettings(instance: SympoziumInstance): Record<string, unknown> {
  const spec = instance.spec as unknown as Record<string, unknown> & { agents?: { default?: Record<string, unknown> } };
  const fields: Record<string, unknown> = {
    imagePullSecrets: spec.imagePullSecrets,
    volumes: spec.volumes,
    volumeMounts: spec.volumeMounts,
    env: spec.agents?.default?.env,
  };
  const present = (value: unknown) => (Array.isArray(value) ? value.length > 0 : Boolean(value) && typeof value === 'object' && Object.keys(value as object).length > 0);
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => present(value)));
}

async function createKeySecret(c: ControllerContext, instance: SympoziumInstance, run: AgentRun | undefined, secretName: string): Promise<void> {
  const namespace = instance.metadata.namespace ?? 'default';
  const key = `sk-${randomBytes(24).toString('hex')}`;
  const created = await createIfMissing(c.client, pathOf('secrets', namespace), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: secretName,
      namespace,
      labels: { [labels.instance]: instance.metadata.name, [labels.component]: components.webProxy },
      // Upstream makes the server run own the key, so deleting the run regenerates it.
      ...(run?.metadata.uid ? { ownerReferences: [ownerReference(run)] } : {}),
    },
    type: 'Opaque',
    data: { 'api-key': Buffer.from(key).toString('base64') },
  });
  if (created) c.log(`instance ${namespace}/${instance.metadata.name}: generated the API key Secret ${secretName}`);
}

async function ensureRoute(c: ControllerContext, instance: SympoziumInstance, runName: string, hostname: string): Promise<void> {
  const namespace = instance.metadata.namespace ?? 'default';
  const routeName = names.httpRoute(runName);
  const desired = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: {
      name: routeName,
      namespace,
      labels: { [labels.instance]: instance.metadata.name, [labels.component]: components.webEndpoint },
      ownerReferences: [ownerReference(instance)],
    },
    spec: {
      parentRefs: [{ name: 'sympozium-gateway', namespace: 'sympozium-system' }],
      hostnames: [hostname],
      rules: [{ backendRefs: [{ name: names.serverService(runName), port: 8080 }] }],
    },
  };
  const existing = await c.client.getOrUndefined<{ spec?: { hostnames?: string[] } }>(pathOf('httpRoutes', namespace, routeName));
  if (!existing) await createIfMissing(c.client, pathOf('httpRoutes', namespace), desired);
  else if (existing.spec?.hostnames?.[0] !== hostname) await c.client.mergePatch(pathOf('httpRoutes', namespace, routeName), { spec: desired.spec });
}

/** Deletes everything the web endpoint of this instance consists of; a no-op when there is nothing. */
export async function teardownWebEndpoint(c: ControllerContext, instance: SympoziumInstance): Promise<void> {
  const namespace = instance.metadata.namespace ?? 'default';
  const name = instance.metadata.name;
  const runName = names.webEndpointRun(name);
  const serverName = names.serverDeployment(runName);
  const keyName = names.webProxyKeySecret(name);
  const key = c.secrets.get(namespace, keyName);
  const generatedKey = key?.metadata.labels?.[labels.component] === components.webProxy && key.metadata.labels?.[labels.instance] === name;
  const pods = c.pods.list((pod) => pod.metadata.namespace === namespace && pod.metadata.labels?.[agentRunLabel] === runName);
  const anything =
    c.runs.get(namespace, runName) || c.deployments.get(namespace, serverName) || c.services.get(namespace, serverName) || generatedKey || pods.length > 0 ||
    c.proxies.port(namespace, name) !== undefined;
  if (!anything) return;
  await c.proxies.stop(namespace, name);
  await deleteIfExists(c.client, pathOf('runs', namespace, runName));
  await deleteIfExists(c.client, pathOf('deployments', namespace, serverName));
  await deleteIfExists(c.client, pathOf('services', namespace, serverName));
  for (const pod of pods) await deleteIfExists(c.client, pathOf('pods', namespace, pod.metadata.name));
  if (generatedKey) await deleteIfExists(c.client, pathOf('secrets', namespace, keyName));
  if (c.gatewayBaseDomain) await deleteIfExists(c.client, pathOf('httpRoutes', namespace, names.httpRoute(runName)));
  c.log(`instance ${namespace}/${name}: web endpoint torn down`);
}
