import type { Context } from '../context.js';
import { CliError, InterruptedError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { deploymentPath, deploymentProblem, deploymentReady, podProblems, type Deployment } from '../kube/deployments.js';
import { isNotFound } from '../kube/errors.js';
import { updateWithRetry } from '../kube/retry.js';
import { watchObjects, watchUntil } from '../kube/watch.js';
import { apiKeyDataKeys, findApiKey, secretPath, type FoundApiKey } from '../sympozium/api-key.js';
import { resolveEndpoint, webProxyPort } from '../sympozium/endpoint.js';
import { instanceNotFound, instanceRef, readInstance, type InstanceRef } from '../sympozium/instances.js';
import { runPath } from '../sympozium/kinds.js';
import { probeHealth, sleep } from '../sympozium/probe.js';
import { labels, names, type AgentRun, type SympoziumInstance } from '../sympozium/types.js';
import {
  findWebEndpointSkill,
  settingsToParams,
  webEndpointEnabled,
  withWebEndpointSkill,
  withoutWebEndpointSkill,
} from '../sympozium/web-endpoint.js';
import { shortDuration } from '../ui/format.js';
import { startSpinner, type Spinner } from '../ui/spinner.js';

export interface EnableWebEndpointOptions {
  instance: string;
  rpm?: number;
  burst?: number;
  hostname?: string;
  authSecret?: string;
  wait: boolean;
  timeoutMs: number;
}

async function readOrExplain<T>(kube: KubeClient, ref: InstanceRef, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isNotFound(error)) throw await instanceNotFound(kube, ref);
    throw error;
  }
}

export async function enableWebEndpoint(options: EnableWebEndpointOptions, ctx: Context): Promise<void> {
  const kube = await ctx.kube();
  const ref = await instanceRef(kube, options.instance);
  if (options.authSecret) await checkAuthSecret(kube, ref.namespace, options.authSecret);
  const params = settingsToParams(options);
  let wasEnabled = false;
  const update = await readOrExplain(kube, ref, () =>
    updateWithRetry<SympoziumInstance>(
      kube,
      ref.path,
      (current) => {
        wasEnabled = Boolean(findWebEndpointSkill(current));
        const skills = withWebEndpointSkill(current.spec?.skills, params);
        return skills ? { spec: { skills } } : undefined;
      },
      { what: `${ref.kind.kind} ${options.instance}` },
    ),
  );
  if (!update.changed) ctx.out.info(`The web endpoint of ${options.instance} is already enabled with these settings.`);
  else if (wasEnabled) {
    ctx.out.info(`Updated the web-endpoint skill's params on ${options.instance}.`);
    ctx.out.warn('upstream Sympozium does not update a running proxy when params change; it applies them when the server run is recreated.');
  } else ctx.out.info(`Added the web-endpoint skill to ${options.instance}.`);

  if (!options.wait) {
    printResult(ctx, { ref, serving: false });
    return;
  }
  const state = await waitUntilServing(ctx, kube, ref, options.timeoutMs);
  printResult(ctx, { ref, serving: true, ...state });
}

async function checkAuthSecret(kube: KubeClient, namespace: string, name: string): Promise<void> {
  const secret = await kube.getOrUndefined<{ data?: Record<string, string> }>(secretPath(namespace, name));
  if (!secret) {
    throw new CliError(`Secret ${name} (--auth-secret) does not exist in namespace ${namespace}`, {
      hint: `Create it first: kubectl create secret generic ${name} -n ${namespace} --from-literal=api-key=sk-$(openssl rand -hex 24)`,
      exitCode: 2,
    });
  }
  if (!apiKeyDataKeys.some((key) => secret.data?.[key])) {
    throw new CliError(`Secret ${name} (--auth-secret) has no api-key entry`, {
      hint: `The proxy reads the key from data key "api-key": kubectl create secret generic ${name} -n ${namespace} --from-literal=api-key=sk-... --dry-run=client -o yaml | kubectl apply -f -`,
      exitCode: 2,
    });
  }
}

interface ServingState {
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
async function waitUntilServing(ctx: Context, kube: KubeClient, ref: InstanceRef, timeoutMs: number): Promise<ServingState> {
  const deadline = Date.now() + timeoutMs;
  const started = Date.now();
  const runName = names.webEndpointRun(ref.name);
  const spinner = await startSpinner(ctx, `waiting for the server run ${runName} to be Serving`);
  const elapsed = () => shortDuration(Date.now() - started);
  const timedOut = (stage: string, why: string, hint: string) =>
    new CliError(`the web endpoint of ${ref.name} is not serving after ${shortDuration(timeoutMs)}: ${stage} did not come (${why})`, { hint });
  try {
    // 1. The server AgentRun, found by name or by its component label (for controllers that name it otherwise).
    spinner.update(`waiting for the server run ${runName} to be Serving`);
    const runs = await watchUntil<AgentRun, AgentRun | Error>(
      kube,
      runPath(ref.namespace),
      { labelSelector: `${labels.instance}=${ref.name}`, deadline, signal: ctx.signal },
      (objects) => {
        const run = objects.get(runName) ?? [...objects.values()].find((candidate) => candidate.metadata.labels?.[labels.component] === 'web-endpoint');
        if (!run) return undefined;
        spinner.update(`waiting for the server run ${run.metadata.name} to be Serving (phase ${run.status?.phase || 'Pending'}, ${elapsed()})`);
        if (run.status?.phase === 'Serving') return run;
        if (run.status?.phase === 'Failed') return new Error(run.status.error || 'the run failed without an error message');
        return undefined;
      },
    );
    if (runs.result instanceof Error) {
      throw new CliError(`the server run ${runName} of ${ref.name} failed: ${runs.result.message}`, {
        hint: `Details: sympozium runs get ${runName}. Fix the cause, then disable and enable the web endpoint again.`,
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
    spinner.update(`waiting for Deployment ${deploymentName} to have a ready replica (${elapsed()})`);
    const rollout = await watchUntil<Deployment, Deployment>(
      kube,
      deploymentPath(ref.namespace),
      { fieldSelector: `metadata.name=${deploymentName}`, deadline, signal: ctx.signal },
      (objects) => {
        const deployment = objects.get(deploymentName);
        if (deployment) spinner.update(`waiting for Deployment ${deploymentName}: ${deploymentProblem(deployment)} (${elapsed()})`);
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
    spinner.update(`waiting for the API key Secret (${elapsed()})`);
    const key = await waitForKey(ctx, kube, ref, deadline);
    if (!key) {
      throw timedOut('the API key Secret', `none of the names in the contract exists`, `Run \`sympozium key show ${ref.name}\` to see every place it looks.`);
    }

    // 4. /healthz through the public URL, else a port-forward to the proxy's Service.
    spinner.update(`checking /healthz (${elapsed()})`);
    const endpoint = await resolveEndpoint(ctx, ref.name, { namespace: ref.namespace });
    let health = { ok: false, status: 0, detail: '' };
    try {
      for (;;) {
        health = await probeHealth(endpoint.baseUrl, ctx.signal);
        if (health.ok) break;
        if (Date.now() >= deadline) break;
        if (ctx.signal.aborted) throw new InterruptedError();
        spinner.update(`checking /healthz via ${endpoint.via} (${health.status || health.detail}, ${elapsed()})`);
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
    spinner.stop();
    return {
      url: endpoint.via === 'port-forward' ? undefined : endpoint.baseUrl,
      via: endpoint.via,
      key,
      serverRun: run.metadata.name,
      deployment: deploymentName,
    };
  } catch (error) {
    spinner.stop();
    throw error;
  }
}

/** Waits (watching Secrets, not polling) until the key lookup succeeds; undefined at the deadline. */
async function waitForKey(ctx: Context, kube: KubeClient, ref: InstanceRef, deadline: number): Promise<FoundApiKey | undefined> {
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

function printResult(ctx: Context, result: { ref: InstanceRef; serving: boolean } & ServingState): void {
  const { ref } = result;
  const namespaceFlag = ref.namespace === 'default' ? '' : ` -n ${ref.namespace}`;
  const inCluster = `http://${names.serverService(names.webEndpointRun(ref.name))}.${ref.namespace}.svc:${webProxyPort}`;
  if (ctx.out.format === 'json' || ctx.out.format === 'yaml') {
    ctx.out.document({
      instance: ref.name,
      namespace: ref.namespace,
      serving: result.serving,
      url: result.url ?? null,
      inClusterUrl: inCluster,
      keySecret: result.key?.secret ?? null,
      serverRun: result.serverRun ?? names.webEndpointRun(ref.name),
      deployment: result.deployment ?? null,
    });
    return;
  }
  const lines: string[] = [];
  if (result.serving) lines.push(`The web endpoint of ${ref.name} is serving.`);
  else lines.push(`The web endpoint of ${ref.name} is enabled; the controller is starting it (not waited for).`);
  lines.push(
    result.url
      ? `  URL:         ${result.url}`
      : `  URL:         none public; inside the cluster ${inCluster} (sympozium chat/models port-forward to it)`,
  );
  lines.push(`  Key Secret:  ${result.key ? `${result.key.secret} (show it: sympozium key show ${ref.name}${namespaceFlag})` : 'created by the controller; see it with `sympozium key show ' + ref.name + namespaceFlag + '`'}`);
  ctx.out.result(lines.join('\n'));
  ctx.out.hint(`Next: sympozium chat ${ref.name}${namespaceFlag} "hello"`);
}

export interface DisableWebEndpointOptions {
  instance: string;
  wait: boolean;
  timeoutMs: number;
}

/** How long to wait for any sign of teardown before concluding the controller does not do it (upstream). */
const teardownGraceMs = 15_000;

export async function disableWebEndpoint(options: DisableWebEndpointOptions, ctx: Context): Promise<void> {
  const kube = await ctx.kube();
  const ref = await instanceRef(kube, options.instance);
  const update = await readOrExplain(kube, ref, () =>
    updateWithRetry<SympoziumInstance>(
      kube,
      ref.path,
      (current) => {
        const skills = withoutWebEndpointSkill(current.spec?.skills);
        const deprecated = current.spec?.webEndpoint?.enabled === true;
        if (!skills && !deprecated) return undefined;
        return { spec: { ...(skills ? { skills } : {}), ...(deprecated ? { webEndpoint: null } : {}) } };
      },
      { what: `${ref.kind.kind} ${options.instance}` },
    ),
  );
  if (!update.changed) {
    ctx.out.result(`The web endpoint of ${options.instance} is not enabled; nothing to do.`);
    return;
  }
  ctx.out.info(`Removed the web-endpoint skill from ${options.instance}.`);
  if (webEndpointEnabled(update.object)) ctx.out.warn('the instance still reports the web endpoint as enabled');
  const runName = names.webEndpointRun(options.instance);
  if (!options.wait) {
    ctx.out.result(`The web endpoint of ${options.instance} is disabled (teardown not waited for).`);
    return;
  }
  const spinner = await startSpinner(ctx, `waiting for the controller to remove the server run ${runName}`);
  try {
    await waitForTeardown(ctx, kube, ref, runName, options.timeoutMs, spinner);
  } finally {
    spinner.stop();
  }
}

async function waitForTeardown(ctx: Context, kube: KubeClient, ref: InstanceRef, runName: string, timeoutMs: number, spinner: Spinner): Promise<void> {
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
  if (started.timedOut) {
    spinner.stop();
    ctx.out.result(`The web endpoint of ${ref.name} is disabled in its spec, but the controller left the server run running.`);
    ctx.out.warn(
      `this controller does not tear the endpoint down (upstream Sympozium keeps it): the server run ${runName} and Deployment ${deploymentName} still serve with the old key. Remove them with: kubectl delete agentrun ${runName} -n ${ref.namespace}`,
    );
    return;
  }
  spinner.update(`waiting for Deployment ${deploymentName} and the server run to go`);
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
  spinner.stop();
  ctx.out.result(`The web endpoint of ${ref.name} is disabled and torn down.`);
}
