import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import type { EndpointTarget } from '../openai/client.js';
import { resolveEndpoint, type ResolvedEndpoint } from '../sympozium/endpoint.js';
import type { SympoziumInstance } from '../sympozium/types.js';

/**
 * Everything `chat`, `models` and `mcp` need before their first request: the endpoint (and its
 * port-forward), the API key, and — best-effort when --url spares us the cluster — a cluster client for run
 * details. The key's value never leaves here except in the Authorization header.
 */

export interface EndpointOptions {
  instance: string;
  url?: string;
  key?: string;
}

export interface Connection {
  target: EndpointTarget;
  endpoint: ResolvedEndpoint;
  /** The cluster client for run details, when one is there (always, unless --url was given). */
  cluster(): Promise<{ kube: KubeClient; namespace: string } | undefined>;
  /** Why the cluster was skipped, once cluster() returned undefined. */
  readonly clusterSkipped?: string;
  instanceObject?: SympoziumInstance;
  close(): Promise<void>;
}

export async function connect(ctx: Context, options: EndpointOptions): Promise<Connection> {
  const endpoint = await resolveEndpoint(ctx, options.instance, { url: options.url, namespace: ctx.globals.namespace });
  try {
    const access = clusterAccess(ctx, endpoint);
    const { apiKey, keySource, instanceObject } = await findKey(ctx, options, access, endpoint.instance);
    ctx.out.debug(`API key: from ${keySource}`);
    return {
      target: { instance: options.instance, baseUrl: endpoint.baseUrl, via: endpoint.via, apiKey, keySource, namespaceFlag: ctx.globals.namespace },
      endpoint,
      instanceObject,
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

interface ClusterAccess {
  cluster(): Promise<{ kube: KubeClient; namespace: string } | undefined>;
  skipped?: string;
}

/** The cluster client, asked for once; with --url and no kubeconfig it is simply absent, and `skipped` says why. */
function clusterAccess(ctx: Context, endpoint: ResolvedEndpoint): ClusterAccess {
  let pending: ReturnType<ClusterAccess['cluster']> | undefined;
  const access: ClusterAccess = {
    cluster: () =>
      (pending ??= ctx.kube().then(
        (kube) => ({ kube, namespace: endpoint.namespace ?? ctx.globals.namespace ?? kube.namespace }),
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
