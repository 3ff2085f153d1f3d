import type { Context } from '../context.js';
import { CliError, InterruptedError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { deploymentPath, deploymentProblem, deploymentReady, podProblems, type Deployment } from '../kube/deployments.js';
import { watchObjects, watchUntil } from '../kube/watch.js';
import { shortDuration } from '../duration.js';
import { findApiKey, secretPath, type FoundApiKey } from './api-key.js';
import { resolveEndpoint } from './endpoint.js';
import { readInstance, type InstanceRef } from './instances.js';
import { runPath } from './kinds.js';
import { probeHealth, sleep } from './probe.js';
import { labels, names, type AgentRun } from './types.js';

/**
 * Waiting for a web endpoint to serve (enable) or to go away (disable), stage by stage, each bounded by the
 * command's deadline. Progress goes through a callback so the command decides how to show it (a spinner).
 */

type WaitContext = Pick<Context, 'kube' | 'out' | 'signal'>;

export interface ServingState {
  url?: string;
  via?: string;
  key?: FoundApiKey;
  serverRun?: string;
  deployment?: string;
}

/**
 * The four stages that prove the endpoint serves, each bounded by the one deadline: the server AgentRun
 * reaches Serving, its Deployment has ready replicas, the key Secret exists, and /healthz answers through
 * the public URL or a port-forward. A stage that does not come is named with the reason the cluster gives.
 */
export async function waitUntilServing(
  ctx: WaitContext,
  ref: InstanceRef,
  timeoutMs: number,
  progress: (stage: string) => void,
): Promise<ServingState> {
  const kube = await ctx.kube();
  const deadline = Date.now() + timeoutMs;
  const started = Date.now();
  const runName = names.webEndpointRun(ref.name);
  const elapsed = () => shortDuration(Date.now() - started);
  const timedOut = (stage: string, why: string, hint: string) =>
    new CliError(`the web endpoint of ${ref.name} is not serving after ${shortDuration(timeoutMs)}: ${stage} did not come (${why})`, { hint });
  // 1. The server AgentRun, found by name or by its component label (for controllers that name it otherwise).
  progress(`waiting for the server run ${runName} to be Serving`);
  const runs = await watchUntil<AgentRun, AgentRun | Error>(
    kube,
    runPath(ref.namespace),
    { labelSelector: `${labels.instance}=${ref.name}`, deadline, signal: ctx.signal },
    (objects) => {
      const run = objects.get(runName) ?? [...objects.values()].find((candidate) => candidate.metadata.labels?.[labels.component] === 'web-endpoint');
      if (!run) return undefined;
      progress(`waiting for the server run ${run.metadata.name} to be Serving (phase ${run.status?.phase || 'Pending'}, ${elapsed()})`);
      if (run.status?.phase === 'Serving') return run;
      if (run.status?.phase === 'Failed') return new Error(run.status.error || 'the run failed without an error message');
      return undefined;
    },
  );
  if (runs.result instanceof Error) {
    throw new CliError(`the server run ${runName} of ${ref.name} failed: ${runs.result.message}`, {
      hint: `Details: sympozium runs get ${runName}. Sympozium never replaces a Failed server run: fix the cause, then: sympozium enable web-endpoint ${ref.name} --recreate`,
    });
  }
  if (runs.timedOut || !runs.result) {
    const run = runs.objects.get(runName);
    throw timedOut(
      `the server run ${runName} in phase Serving`,
      run ? `it is ${run.status?.phase || 'Pending'}${run.status?.error ? `: ${run.status.error}` : ''}` : 'the controller has not created it',
      run ? `Details: sympozium runs get ${runName}` : 'Is the Sympozium controller running, and does the web-endpoint SkillPack exist? Check with `sympozium doctor`.',
    );
  }
  const run = runs.result;

  // 2. Its Deployment's ready replicas: upstream says Serving as soon as it creates the Deployment.
  const deploymentName = run.status?.deploymentName ?? names.serverDeployment(run.metadata.name);
  progress(`waiting for Deployment ${deploymentName} to have a ready replica (${elapsed()})`);
  const rollout = await watchUntil<Deployment, Deployment>(
    kube,
    deploymentPath(ref.namespace),
    { fieldSelector: `metadata.name=${deploymentName}`, deadline, signal: ctx.signal },
    (objects) => {
      const deployment = objects.get(deploymentName);
      if (deployment) progress(`waiting for Deployment ${deploymentName}: ${deploymentProblem(deployment)} (${elapsed()})`);
      return deployment && deploymentReady(deployment) ? deployment : undefined;
    },
  );
  if (rollout.timedOut) {
    const deployment = rollout.objects.get(deploymentName);
    const pods = deployment ? await podProblems(kube, ref.namespace, deployment) : [];
    throw timedOut(
      `Deployment ${deploymentName} with a ready replica`,
      deployment ? [deploymentProblem(deployment), ...pods].join('; ') : 'it does not exist',
      `Look at its pods: kubectl describe deployment ${deploymentName} -n ${ref.namespace}`,
    );
  }

  // 3. The key Secret, under whichever name this controller uses.
  progress(`waiting for the API key Secret (${elapsed()})`);
  const key = await waitForKey(ctx, kube, ref, deadline);
  if (!key) {
    throw timedOut('the API key Secret', `none of the names in the contract exists`, `Run \`sympozium key show ${ref.name}\` to see every place it looks.`);
  }

  // 4. /healthz through the public URL, else a port-forward to the proxy's Service.
  progress(`checking /healthz (${elapsed()})`);
  // The probe sends no key, so a plain-http address is no risk here.
  const endpoint = await resolveEndpoint(ctx, ref.name, { namespace: ref.namespace, carriesKey: false });
  let health = { ok: false, status: 0, detail: '' };
  try {
    for (;;) {
      health = await probeHealth(endpoint.baseUrl, ctx.signal);
      if (health.ok) break;
      if (Date.now() >= deadline) break;
      if (ctx.signal.aborted) throw new InterruptedError();
      progress(`checking /healthz via ${endpoint.via} (${health.status || health.detail}, ${elapsed()})`);
      await sleep(500, ctx.signal);
    }
  } finally {
    await endpoint.close();
  }
  if (!health.ok) {
    throw timedOut(
      `a healthy /healthz at ${endpoint.via === 'port-forward' ? 'the proxy (through a port-forward)' : endpoint.baseUrl}`,
      health.status ? `HTTP ${health.status} ${health.detail}` : health.detail,
      endpoint.via === 'port-forward' ? `Check the proxy's logs: kubectl logs deployment/${deploymentName} -n ${ref.namespace}` : 'Check DNS and the Gateway for that hostname.',
    );
  }
  return {
    url: endpoint.via === 'port-forward' ? undefined : endpoint.baseUrl,
    via: endpoint.via,
    key,
    serverRun: run.metadata.name,
    deployment: deploymentName,
  };
}

/** Waits (watching Secrets, not polling) until the key lookup succeeds; undefined at the deadline. */
async function waitForKey(ctx: WaitContext, kube: KubeClient, ref: InstanceRef, deadline: number): Promise<FoundApiKey | undefined> {
  const attempt = async () => {
    const instance = await readInstance(kube, ref);
    return findApiKey(kube, instance, ref.namespace).catch((error: unknown) => {
      if (error instanceof CliError && /no API key found/.test(error.message)) return undefined;
      throw error;
    });
  };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(0, deadline - Date.now()));
  try {
    // Every Secret change in the namespace may be the key; the lookup decides, since it knows every name.
    for await (const _update of watchObjects(kube, secretPath(ref.namespace), { signal: AbortSignal.any([ctx.signal, controller.signal]) })) {
      const found = await attempt();
      if (found) return found;
    }
  } catch (error) {
    if (!controller.signal.aborted || ctx.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  if (ctx.signal.aborted) throw new InterruptedError();
  return undefined;
}

/** How long to wait for any sign of teardown before concluding the controller does not do it (upstream). */
const teardownGraceMs = 15_000;

/**
 * After the skill is removed: 'torn-down' once the server run and its Deployment are gone, 'kept' when the
 * controller shows no sign of tearing down within a grace period (upstream keeps the endpoint running).
 */
export async function waitForTeardown(
  ctx: WaitContext,
  ref: InstanceRef,
  timeoutMs: number,
  progress: (stage: string) => void,
): Promise<'torn-down' | 'kept'> {
  const kube = await ctx.kube();
  const runName = names.webEndpointRun(ref.name);
  const deadline = Date.now() + timeoutMs;
  const deploymentName = names.serverDeployment(runName);
  // First: does the controller start a teardown at all? Upstream does not; then say so rather than hang.
  const started = await watchUntil<AgentRun, 'gone' | 'terminating'>(
    kube,
    runPath(ref.namespace),
    { fieldSelector: `metadata.name=${runName}`, deadline: Math.min(deadline, Date.now() + teardownGraceMs), signal: ctx.signal },
    (objects) => {
      const run = objects.get(runName);
      if (!run) return 'gone';
      return run.metadata.deletionTimestamp ? 'terminating' : undefined;
    },
  );
  if (started.timedOut) return 'kept';
  progress(`waiting for Deployment ${deploymentName} and the server run to go`);
  const [runGone, deploymentGone] = await Promise.all([
    watchUntil<AgentRun, true>(kube, runPath(ref.namespace), { fieldSelector: `metadata.name=${runName}`, deadline, signal: ctx.signal }, (objects) =>
      objects.has(runName) ? undefined : true,
    ),
    watchUntil<Deployment, true>(kube, deploymentPath(ref.namespace), { fieldSelector: `metadata.name=${deploymentName}`, deadline, signal: ctx.signal }, (objects) =>
      objects.has(deploymentName) ? undefined : true,
    ),
  ]);
  if (runGone.timedOut || deploymentGone.timedOut) {
    const left = [runGone.timedOut && `the server run ${runName}`, deploymentGone.timedOut && `Deployment ${deploymentName}`].filter(Boolean).join(' and ');
    throw new CliError(`the web endpoint of ${ref.name} is disabled, but ${left} still exist after ${shortDuration(timeoutMs)}`, {
      hint: 'The controller is slow or stuck: check it with `sympozium doctor`, or wait longer with --timeout.',
    });
  }
  return 'torn-down';
}
