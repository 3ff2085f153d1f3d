import { randomBytes } from 'node:crypto';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { deploymentPath, deploymentProblem, deploymentRolledOut, restartDeployment, secretUsage, type Deployment } from '../kube/deployments.js';
import { isNotFound } from '../kube/errors.js';
import { updateWithRetry } from '../kube/retry.js';
import { watchUntil } from '../kube/watch.js';
import { findApiKey, secretPath, type FoundApiKey } from '../sympozium/api-key.js';
import { resolveEndpoint } from '../sympozium/endpoint.js';
import { instanceRef, readInstance, readInstanceByName } from '../sympozium/instances.js';
import { probeKey, sleep } from '../sympozium/probe.js';
import { names, type AgentRun } from '../sympozium/types.js';
import { runPath } from '../sympozium/kinds.js';
import { maskSecret } from '../sympozium/secrets.js';
import { shortDuration } from '../ui/format.js';
import { startSpinner } from '../ui/spinner.js';

/**
 * `sympozium key show|rotate`: the web endpoint's API key, found wherever the contract allows it to be
 * (sympozium/api-key.ts). The key is masked unless --reveal, and never part of an error.
 */
export interface ShowKeyOptions {
  instance: string;
  reveal: boolean;
}

export async function showKey(options: ShowKeyOptions, ctx: Context): Promise<void> {
  const kube = await ctx.kube();
  const { ref, instance } = await readInstanceByName(kube, options.instance);
  const found = await findApiKey(kube, instance, ref.namespace);
  const shown = options.reveal ? found.key : maskSecret(found.key);
  const format = ctx.out.format;
  if (format === 'json' || format === 'yaml') {
    ctx.out.document({ secret: found.secret, namespace: found.namespace, key: shown });
    return;
  }
  if (options.reveal) {
    // Just the key, so `export SYMPOZIUM_API_KEY=$(sympozium key show demo --reveal)` works.
    ctx.out.result(found.key);
    ctx.out.debug(`key from ${found.source}, namespace ${found.namespace}`);
    return;
  }
  ctx.out.result(shown);
  ctx.out.info(`from ${found.source} in namespace ${found.namespace}, data key ${found.dataKey}`);
  ctx.out.hint(`Print the whole key with: sympozium key show ${options.instance} --reveal`);
}

export interface RotateKeyOptions {
  /** Allow the key checks over plain http to a host that is not loopback. */
  allowHttp?: boolean;
  instance: string;
  timeoutMs: number;
}

/** `sk-` and 24 random bytes in hex, the shape upstream generates. */
export function generateApiKey(): string {
  return `sk-${randomBytes(24).toString('hex')}`;
}

export async function rotateKey(options: RotateKeyOptions, ctx: Context): Promise<void> {
  const kube = await ctx.kube();
  const ref = await instanceRef(kube, options.instance);
  const instance = await readInstance(kube, ref);
  const old = await findApiKey(kube, instance, ref.namespace);
  const deadline = Date.now() + options.timeoutMs;
  const spinner = await startSpinner(ctx, `writing a new key into Secret ${old.secret}`);
  let restarted = false;
  try {
    const fresh = generateApiKey();
    await writeKey(ctx, old, fresh);

    // A proxy that reads the key from an environment variable keeps the old one until its pods restart.
    const run = await kube.getOrUndefined<AgentRun>(runPath(ref.namespace, names.webEndpointRun(options.instance)));
    const deploymentName = run?.status?.deploymentName ?? names.serverDeployment(names.webEndpointRun(options.instance));
    const deployment = await kube.getOrUndefined<Deployment>(deploymentPath(ref.namespace, deploymentName));
    if (deployment && secretUsage(deployment, old.secret) === 'env') {
      spinner.update(`restarting Deployment ${deploymentName} so the proxy reads the new key`);
      const patched = await restartDeployment(kube, ref.namespace, deploymentName, ctx.now());
      restarted = true;
      const rollout = await watchUntil<Deployment, true>(
        kube,
        deploymentPath(ref.namespace),
        { fieldSelector: `metadata.name=${deploymentName}`, deadline, signal: ctx.signal },
        (objects) => {
          const current = objects.get(deploymentName);
          return current && (current.metadata.generation ?? 0) >= (patched.metadata.generation ?? 0) && deploymentRolledOut(current) ? true : undefined;
        },
      );
      if (rollout.timedOut) {
        const current = rollout.objects.get(deploymentName);
        throw new CliError(`the new key is stored, but Deployment ${deploymentName} did not finish restarting within ${shortDuration(options.timeoutMs)}${current ? `: ${deploymentProblem(current)}` : ''}`, {
          hint: `Watch it with \`kubectl rollout status deployment/${deploymentName} -n ${ref.namespace}\`; the proxy uses the new key once its pods are replaced.`,
        });
      }
    }

    spinner.update('checking that the proxy accepts the new key and refuses the old one');
    const endpoint = await resolveEndpoint(ctx, options.instance, { namespace: ref.namespace, allowHttp: options.allowHttp });
    try {
      let last = '';
      for (;;) {
        const [accepted, refused] = await Promise.all([probeKey(endpoint.baseUrl, fresh, ctx.signal), probeKey(endpoint.baseUrl, old.key, ctx.signal)]);
        if (accepted.ok && refused.status === 401) break;
        last = `new key -> ${accepted.status || accepted.detail}, old key -> ${refused.status || refused.detail}`;
        if (Date.now() >= deadline || ctx.signal.aborted) {
          throw new CliError(`the new key is stored in Secret ${old.secret}, but the proxy did not switch to it within ${shortDuration(options.timeoutMs)} (${last})`, {
            hint: restarted
              ? `Check the proxy: sympozium instances describe ${options.instance}`
              : `The proxy may read the key only at start-up: restart it with \`kubectl rollout restart deployment/${deploymentName} -n ${ref.namespace}\`.`,
          });
        }
        await sleep(500, ctx.signal);
      }
    } finally {
      await endpoint.close();
    }
    spinner.stop();
    const result = { secret: old.secret, namespace: old.namespace, key: maskSecret(fresh), restarted, verified: true };
    if (ctx.out.format === 'json' || ctx.out.format === 'yaml') ctx.out.document(result);
    else {
      ctx.out.success(`rotated the API key of ${options.instance}${restarted ? ` (Deployment ${deploymentName} restarted)` : ''}: the new key works and the old one is refused`);
      ctx.out.result(`${result.key}  (Secret ${old.secret}, namespace ${old.namespace})`);
      ctx.out.hint(`Use it: export SYMPOZIUM_API_KEY=$(sympozium key show ${options.instance} --reveal)`);
    }
  } catch (error) {
    spinner.stop();
    throw error;
  }
}

/** Writes the key into the same Secret and data key it was found in, guarded by resourceVersion. */
async function writeKey(ctx: Context, found: FoundApiKey, key: string): Promise<void> {
  const kube = await ctx.kube();
  try {
    await updateWithRetry(kube, secretPath(found.namespace, found.secret), () => ({ data: { [found.dataKey]: Buffer.from(key).toString('base64') } }), {
      what: `Secret ${found.secret}`,
    });
  } catch (error) {
    if (isNotFound(error)) {
      throw new CliError(`Secret ${found.secret} disappeared while rotating the key`, {
        hint: 'The controller may have regenerated it (upstream does when the server run is recreated). Run `sympozium key show` to see the current key.',
      });
    }
    throw error;
  }
}
