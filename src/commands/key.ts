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
import { names, webEndpointDefaults, type AgentRun } from '../sympozium/types.js';
import { rateLimitRpm } from '../sympozium/web-endpoint.js';
import { runPath } from '../sympozium/kinds.js';
import { maskSecret } from '../sympozium/secrets.js';
import { shortDuration } from '../duration.js';
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
function generateApiKey(): string {
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

    const rpm = rateLimitRpm(instance) ?? webEndpointDefaults.rpm;
    spinner.update(`checking that the proxy accepts the new key (rate limit ${rpm}/min)`);
    const endpoint = await resolveEndpoint(ctx, options.instance, { namespace: ref.namespace, allowHttp: options.allowHttp });
    try {
      await proveNewKey({ baseUrl: endpoint.baseUrl, fresh, rpm, deadline, ctx, progress: (text) => spinner.update(text) }).catch((error: unknown) => {
        if (!(error instanceof KeyNotProven)) throw error;
        const how = restarted
          ? `Check the proxy: sympozium instances describe ${options.instance}`
          : `If the proxy reads the key only at start-up, restart it: kubectl rollout restart deployment/${deploymentName} -n ${ref.namespace}`;
        throw new CliError(`the key was rotated: the new key is stored in Secret ${old.secret}, but within ${shortDuration(options.timeoutMs)} ${error.state}`, {
          hint: `${error.rateLimited ? `Check again in a minute with: sympozium key show ${options.instance} --reveal, then one request to ${endpoint.via === 'port-forward' ? 'the endpoint' : endpoint.baseUrl}/v1/models. ` : how + '. '}Clients must use the new key from now on (sympozium key show ${options.instance} --reveal); the old one works only while the proxy runs with it.`,
        });
      });
    } finally {
      await endpoint.close();
    }
    spinner.stop();
    const result = { secret: old.secret, namespace: old.namespace, key: maskSecret(fresh), restarted, verified: true };
    if (ctx.out.format === 'json' || ctx.out.format === 'yaml') ctx.out.document(result);
    else {
      ctx.out.success(`rotated the API key of ${options.instance}${restarted ? ` (Deployment ${deploymentName} restarted)` : ''}: the proxy accepts the new key (it holds one key, so the old one no longer works)`);
      ctx.out.result(`${result.key}  (Secret ${old.secret}, namespace ${old.namespace})`);
      ctx.out.hint(`Use it: export SYMPOZIUM_API_KEY=$(sympozium key show ${options.instance} --reveal)`);
    }
  } catch (error) {
    spinner.stop();
    throw error;
  }
}

class KeyNotProven extends Error {
  constructor(
    readonly state: string,
    readonly rateLimited: boolean,
  ) {
    super(state);
  }
}

/**
 * Asks the proxy with the new key until it accepts it, one request at a time and no faster than the rate limit
 * refills: upstream's proxy holds one key (internal/webproxy/proxy.go compares the token with its configured
 * key), so once the new key is accepted the old one is refused, and asking with the old key would only spend a
 * token (v0.10 limits before it authenticates, v0.5.8 after). A 429 waits one token's time, 60/rpm seconds.
 */
async function proveNewKey(options: { baseUrl: string; fresh: string; rpm: number; deadline: number; ctx: Context; progress: (text: string) => void }): Promise<void> {
  const { ctx } = options;
  const tokenMs = Math.ceil(60_000 / options.rpm);
  let pause = 500;
  let rateLimitedInARow = 0;
  let last = '';
  for (let attempt = 1; ; attempt++) {
    const answer = await probeKey(options.baseUrl, options.fresh, ctx.signal);
    if (answer.ok) return;
    let wait: number;
    if (answer.status === 429) {
      rateLimitedInARow++;
      wait = tokenMs * Math.min(rateLimitedInARow, 3);
      last = `the proxy answered 429 (rate limit ${options.rpm}/min) to the last ${rateLimitedInARow} check${rateLimitedInARow === 1 ? '' : 's'}`;
    } else {
      rateLimitedInARow = 0;
      wait = pause = Math.min(pause * 2, Math.max(tokenMs, 4000));
      last = answer.status === 401 ? 'the proxy still refuses the new key (it runs with the old one)' : `the proxy did not answer the check (${answer.status || answer.detail})`;
    }
    ctx.out.debug(`key rotate: check ${attempt}: ${answer.status || answer.detail}; next in ${shortDuration(wait)}`);
    if (Date.now() + wait > options.deadline || ctx.signal.aborted) throw new KeyNotProven(last, rateLimitedInARow > 0);
    options.progress(`${last}; checking again in ${shortDuration(wait)}`);
    await sleep(wait, ctx.signal);
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
