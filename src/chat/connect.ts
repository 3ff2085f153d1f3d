import type { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import type { EndpointTarget } from '../openai/client.js';
import { policyForRateLimit, type RetryPolicy } from '../openai/retry.js';
import { resolveEndpoint, type ResolvedEndpoint } from '../sympozium/endpoint.js';
import type { SympoziumInstance } from '../sympozium/types.js';
import { rateLimitRpm } from '../sympozium/web-endpoint.js';

/**
 * Everything `chat`, `models` and `mcp` need before their first request: the endpoint (and its
 * port-forward), the API key, and — best-effort when --url spares us the cluster — a cluster client for run
 * details. The key's value never leaves here except in the Authorization header.
 */

export interface EndpointOptions {
  instance: string;
  url?: string;
  key?: string;
  /** A file holding the key, or - for stdin: unlike --key, not visible to other users in `ps`. */
  keyFile?: string;
  allowHttp?: boolean;
}

export interface Connection {
  target: EndpointTarget;
  endpoint: ResolvedEndpoint;
  /** The cluster client for run details, when one is there (always, unless --url was given). */
  cluster(): Promise<{ kube: KubeClient; namespace: string } | undefined>;
  /** Why the cluster was skipped, once cluster() returned undefined. */
  readonly clusterSkipped?: string;
  instanceObject?: SympoziumInstance;
  /** Retry timing for the instance's rate limit (its rate_limit_rpm param), when the instance was read. */
  retryPolicy: Partial<RetryPolicy>;
  /** Whether the endpoint's proxy honours Idempotency-Key, asked of the cluster once, when first needed. */
  idempotent(): Promise<boolean | undefined>;
  close(): Promise<void>;
}


export async function connect(ctx: Context, options: EndpointOptions): Promise<Connection> {
  if (options.key !== undefined && options.keyFile !== undefined) throw usageError('--key and --key-file both name the key: pass one');
  const endpoint = await resolveEndpoint(ctx, options.instance, { url: options.url, namespace: ctx.globals.namespace, allowHttp: options.allowHttp });
  try {
    const access = clusterAccess(ctx, endpoint.namespace);
    const { apiKey, keySource, instanceObject } = await findKey(ctx, options, access, endpoint.instance);
    ctx.out.debug(`API key: from ${keySource}, sent only to ${new URL(endpoint.baseUrl).origin}`);
    return {
      target: { instance: options.instance, baseUrl: endpoint.baseUrl, via: endpoint.via, apiKey, keySource, namespaceFlag: ctx.globals.namespace },
      endpoint,
      instanceObject,
      retryPolicy: policyForRateLimit(rateLimitRpm(instanceObject ?? endpoint.instance)),
      idempotent: once(async () => {
        const cluster = await access.cluster();
        if (!cluster) return undefined;
        const { idempotencyHonoured } = await import('../sympozium/cluster-release.js');
        return idempotencyHonoured(cluster.kube);
      }),
      cluster: access.cluster,
      get clusterSkipped() {
        return access.skipped;
      },
      close: () => endpoint.close(),
    };
  } catch (error) {
    await endpoint.close();
    throw error;
  }
}

function once<T>(work: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => (pending ??= work());
}

/**
 * The key alone, found the way `connect` finds it, for commands that print it rather than send it
 * (`sympozium env`): the instance and namespace are the ones the endpoint lookup already read.
 */
export async function findEndpointKey(
  ctx: Context,
  options: EndpointOptions,
  namespace: string | undefined,
  instance: SympoziumInstance | undefined,
): Promise<{ apiKey: string; keySource: string; instanceObject?: SympoziumInstance }> {
  if (options.key !== undefined && options.keyFile !== undefined) throw usageError('--key and --key-file both name the key: pass one');
  return findKey(ctx, options, clusterAccess(ctx, namespace), instance);
}

/**
 * For long-running commands (`proxy`, `mcp serve`): reads the key Secret again when the endpoint refuses the
 * key (a `key rotate` wrote a new one), updates `target`, and says whether it changed; at most once every two
 * seconds.
 */
export function keyRefresher(ctx: Context, connection: Connection, target: { apiKey: string }): () => Promise<boolean> {
  let last = 0;
  return async () => {
    if (Date.now() - last < 2_000) return false;
    last = Date.now();
    const cluster = await connection.cluster();
    if (!cluster || !connection.instanceObject) return false;
    const { findApiKey } = await import('../sympozium/api-key.js');
    const found = await findApiKey(cluster.kube, connection.instanceObject, cluster.namespace);
    if (found.key === target.apiKey) return false;
    target.apiKey = found.key;
    ctx.out.info(`the endpoint refused the old key: using the new one from ${found.source}`);
    return true;
  };
}

interface ClusterAccess {
  cluster(): Promise<{ kube: KubeClient; namespace: string } | undefined>;
  skipped?: string;
}

/** The cluster client, asked for once; with --url and no kubeconfig it is simply absent, and `skipped` says why. */
function clusterAccess(ctx: Context, namespace: string | undefined): ClusterAccess {
  let pending: ReturnType<ClusterAccess['cluster']> | undefined;
  const access: ClusterAccess = {
    cluster: () =>
      (pending ??= ctx.kube().then(
        (kube) => ({ kube, namespace: namespace ?? ctx.globals.namespace ?? kube.namespace }),
        (error: unknown) => {
          access.skipped = error instanceof Error ? error.message.split('\n')[0] : String(error);
          return undefined;
        },
      )),
  };
  return access;
}

async function findKey(
  ctx: Context,
  options: EndpointOptions,
  access: ClusterAccess,
  known: SympoziumInstance | undefined,
): Promise<{ apiKey: string; keySource: string; instanceObject?: SympoziumInstance }> {
  // Trimmed: a key pasted or read from a file often brings a newline, which would make every request a 401.
  const fromFlag = options.key?.trim();
  if (fromFlag) return { apiKey: fromFlag, keySource: 'the --key flag', instanceObject: known };
  if (options.keyFile !== undefined) return { apiKey: await readKeyFile(ctx, options.keyFile), keySource: `--key-file ${options.keyFile}`, instanceObject: known };
  const fromEnv = ctx.env.SYMPOZIUM_API_KEY?.trim();
  if (fromEnv) return { apiKey: fromEnv, keySource: '$SYMPOZIUM_API_KEY', instanceObject: known };

  const cluster = await access.cluster();
  if (!cluster) {
    throw new CliError(`no API key for ${options.instance}: no --key, no SYMPOZIUM_API_KEY, and the cluster cannot be asked (${access.skipped})`, {
      hint: 'Pass --key <key> or set SYMPOZIUM_API_KEY; whoever runs the endpoint can get it with `sympozium key show <instance> --reveal`.',
    });
  }
  const { discoverInstanceKind, instancePath } = await import('../sympozium/kinds.js');
  let instance = known;
  if (!instance) {
    const kind = await discoverInstanceKind(cluster.kube);
    instance = await cluster.kube.getOrUndefined<SympoziumInstance>(instancePath(kind, cluster.namespace, options.instance));
    if (!instance) {
      throw new CliError(`no API key: instance ${options.instance} does not exist in namespace ${cluster.namespace} (${cluster.kube.describe()})`, {
        hint: 'Pass --key <key> or set SYMPOZIUM_API_KEY, or pick the right cluster with --context and -n.',
      });
    }
  }
  const { findApiKey } = await import('../sympozium/api-key.js');
  const found = await findApiKey(cluster.kube, instance, cluster.namespace);
  return { apiKey: found.key, keySource: found.source, instanceObject: instance };
}

/** The key from --key-file: its first non-empty line, so a trailing newline or a comment-free file both work. */
async function readKeyFile(ctx: Pick<Context, 'stdin' | 'cwd'>, file: string): Promise<string> {
  let text: string;
  try {
    if (file === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.stdin as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
      text = Buffer.concat(chunks).toString('utf8');
    } else {
      const { readFile } = await import('node:fs/promises');
      const { resolve } = await import('node:path');
      text = await readFile(resolve(ctx.cwd, file), 'utf8');
    }
  } catch (error) {
    throw usageError(`cannot read --key-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'Name a readable file holding the key, or - for stdin.');
  }
  const key = text.split(/\r?\n/).map((line) => line.trim()).find(Boolean);
  if (!key) throw usageError(`--key-file ${file} is empty`, 'Put the key on its first line: sympozium key show <instance> --reveal > key.txt');
  return key;
}
