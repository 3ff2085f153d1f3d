import type { Context } from '../context.js';
import { CliError, ExitCode, usageError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { isNotFound } from '../kube/errors.js';
import { updateWithRetry } from '../kube/retry.js';
import { apiKeyDataKeys, secretPath } from '../sympozium/api-key.js';
import { webProxyPort } from '../sympozium/endpoint.js';
import { instanceNotFound, instanceRef, type InstanceRef } from '../sympozium/instances.js';
import { runPath } from '../sympozium/kinds.js';
import { names, type AgentRun, type SympoziumInstance } from '../sympozium/types.js';
import { waitForTeardown, waitUntilServing, type ServingState } from '../sympozium/web-endpoint-wait.js';
import { findWebEndpointSkill, settingsToParams, webEndpointEnabled, withWebEndpointSkill, withoutWebEndpointSkill } from '../sympozium/web-endpoint.js';
import { startSpinner } from '../ui/spinner.js';

export interface EnableWebEndpointOptions {
  instance: string;
  rpm?: number;
  burst?: number;
  hostname?: string;
  authSecret?: string;
  /** Delete a Failed server run first, so the controller creates a new one. */
  recreate?: boolean;
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
  const failed = await failedServerRun(kube, ref);
  if (failed && options.recreate) await recreateServerRun(kube, ref, failed, ctx);
  else if (failed) {
    // Waiting would only wait for the run's 5 minutes: upstream never replaces a Failed server run.
    if (options.wait) throw serverRunFailed(options.instance, failed);
    ctx.out.warn(`the server run ${failed.metadata.name} of ${options.instance} failed: ${failed.status?.error || 'no error recorded'}`);
    ctx.out.hint(`Sympozium never replaces a Failed server run while it exists. Fix the cause, then: sympozium enable web-endpoint ${options.instance} --recreate`);
  } else if (options.recreate) {
    ctx.out.info(`Nothing to recreate: the server run ${names.webEndpointRun(options.instance)} is not Failed.`);
  }
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
  const spinner = await startSpinner(ctx, `waiting for the web endpoint of ${options.instance} to serve`);
  let state: ServingState;
  try {
    state = await waitUntilServing(ctx, ref, options.timeoutMs, (stage) => spinner.update(stage));
  } catch (error) {
    spinner.stop();
    // Ctrl-C stops the waiting, not the change: say that the skill is on and the controller carries on.
    if (ctx.signal.aborted) ctx.out.info(`Stopped waiting. The web-endpoint skill is on ${options.instance} and the controller carries on; check with \`sympozium instances describe ${options.instance}\`.`);
    throw error;
  } finally {
    spinner.stop();
  }
  printResult(ctx, { ref, serving: true, ...state });
}

/** The instance's server run when it exists and has Failed (upstream keeps it, and with it the endpoint down). */
async function failedServerRun(kube: KubeClient, ref: InstanceRef): Promise<AgentRun | undefined> {
  const run = await kube.getOrUndefined<AgentRun>(runPath(ref.namespace, names.webEndpointRun(ref.name)));
  return run?.status?.phase === 'Failed' && !run.metadata.deletionTimestamp ? run : undefined;
}

function serverRunFailed(instance: string, run: AgentRun): CliError {
  return new CliError(`the server run ${run.metadata.name} of ${instance} failed: ${run.status?.error || 'no error recorded'}`, {
    exitCode: ExitCode.failed,
    hint: `Details: sympozium runs get ${run.metadata.name}. Sympozium never replaces a Failed server run: fix the cause, then: sympozium enable web-endpoint ${instance} --recreate`,
  });
}

/**
 * Deletes the Failed server run (after a confirmation, or --yes), waits until it is gone, then touches the
 * instance so the controller reconciles at once: upstream's instance controller creates a server run only when
 * none exists, and does not watch AgentRuns, so without the touch the new run waits for its 60 s requeue
 * (internal/controller/sympoziuminstance_controller.go, ensureWebEndpointAgentRun and SetupWithManager).
 */
async function recreateServerRun(kube: KubeClient, ref: InstanceRef, run: AgentRun, ctx: Context): Promise<void> {
  const name = run.metadata.name;
  const what = `the Failed server run ${name} of ${ref.name} (${run.status?.error || 'no error recorded'})`;
  if (!ctx.globals.yes) {
    if (!ctx.interactive) throw usageError(`refusing to delete ${what} without confirmation`, 'Add --yes to confirm.');
    if (!(await ctx.prompt.confirm({ message: `Delete ${what} so the controller makes a new one?`, default: true }))) {
      throw new CliError('nothing changed', { exitCode: ExitCode.failed });
    }
  }
  const path = runPath(ref.namespace, name);
  await kube.delete(path, { propagationPolicy: 'Foreground' }).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
  const { watchUntil } = await import('../kube/watch.js');
  const gone = await watchUntil<AgentRun, true>(
    kube,
    runPath(ref.namespace),
    { fieldSelector: `metadata.name=${name}`, deadline: Date.now() + 60_000, signal: ctx.signal },
    (objects) => (objects.has(name) ? undefined : true),
  );
  if (!gone.result) {
    throw new CliError(`the server run ${name} is still there after 60s (finalizers: ${(gone.objects.get(name)?.metadata.finalizers ?? []).join(', ') || 'none'})`, {
      hint: `Check it with: kubectl get agentrun ${name} -n ${ref.namespace} -o yaml`,
    });
  }
  await kube.mergePatch(ref.path, { metadata: { annotations: { 'sympozium.ai/server-run-recreated-at': new Date().toISOString() } } });
  ctx.out.info(`Deleted the Failed server run ${name}; the controller creates a new one.`);
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
  // -o json|yaml: one document saying what happened, instead of the sentence.
  const finish = (state: 'not-enabled' | 'disabled' | 'torn-down' | 'kept', sentence: string) =>
    ctx.out.format === 'json' || ctx.out.format === 'yaml'
      ? ctx.out.document({ instance: options.instance, namespace: ref.namespace, state })
      : ctx.out.result(sentence);
  if (!update.changed) {
    finish('not-enabled', `The web endpoint of ${options.instance} is not enabled; nothing to do.`);
    return;
  }
  ctx.out.info(`Removed the web-endpoint skill from ${options.instance}.`);
  if (webEndpointEnabled(update.object)) ctx.out.warn('the instance still reports the web endpoint as enabled');
  const runName = names.webEndpointRun(options.instance);
  if (!options.wait) {
    finish('disabled', `The web endpoint of ${options.instance} is disabled (teardown not waited for).`);
    return;
  }
  const spinner = await startSpinner(ctx, `waiting for the controller to remove the server run ${runName}`);
  let outcome: 'torn-down' | 'kept';
  try {
    outcome = await waitForTeardown(ctx, ref, options.timeoutMs, (stage) => spinner.update(stage));
  } catch (error) {
    spinner.stop();
    if (ctx.signal.aborted) ctx.out.info(`Stopped waiting. The web-endpoint skill is off ${options.instance}; the controller tears the rest down on its own.`);
    throw error;
  } finally {
    spinner.stop();
  }
  if (outcome === 'torn-down') {
    finish('torn-down', `The web endpoint of ${options.instance} is disabled and torn down.`);
    return;
  }
  const deploymentName = names.serverDeployment(runName);
  finish('kept', `The web endpoint of ${options.instance} is disabled in its spec, but the controller left the server run running.`);
  ctx.out.warn(
    `this controller does not tear the endpoint down (upstream Sympozium keeps it): the server run ${runName} and Deployment ${deploymentName} still serve with the old key. Remove them with: kubectl delete agentrun ${runName} -n ${ref.namespace}`,
  );
}

