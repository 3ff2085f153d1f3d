import type { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { names, type SympoziumInstance } from './types.js';
import { isLoopbackHost } from '../openai/http.js';

/**
 * Where an instance's web endpoint can be reached from this machine, in the order the README's chat section gives:
 * --url; the instance's status URL or its HTTPRoute hostname; else a port-forward to the proxy's Service, opened
 * for this command only.
 */

type EndpointVia = 'flag' | 'status' | 'httproute' | 'port-forward';

export interface ResolvedEndpoint {
  /** Without a trailing slash and without `/v1`: callers append `/v1/chat/completions`, `/sse`, ... */
  baseUrl: string;
  via: EndpointVia;
  /** Set when the endpoint came from the cluster: the namespace the instance lives in. */
  namespace?: string;
  /** The instance object, when it was read on the way (saves callers a second GET). */
  instance?: SympoziumInstance;
  /** Closes the port-forward, if one was opened; a no-op otherwise. */
  close(): Promise<void>;
}

export interface EndpointOptions {
  url?: string;
  namespace?: string;
  /** Allow sending the API key over plain http to a host that is not loopback (the user said so). */
  allowHttp?: boolean;
  /** False for callers that send no key (the /healthz probe): then plain http is no risk to check. */
  carriesKey?: boolean;
}

/**
 * The Service port of the web proxy: the web-endpoint SkillPack's sidecar port (upstream
 * config/skills/web-endpoint.yaml).
 */
export const webProxyPort = 8080;

export async function resolveEndpoint(
  ctx: Pick<Context, 'kube' | 'out' | 'signal'>,
  instanceName: string,
  options: EndpointOptions,
): Promise<ResolvedEndpoint> {
  const located = await locateEndpoint(ctx, instanceName, options);
  if (located.baseUrl !== undefined) return { baseUrl: located.baseUrl, via: located.via, namespace: located.namespace, instance: located.instance, close: async () => {} };
  const kube = await ctx.kube();
  const namespace = located.namespace!;
  const service = located.service!;
  const { openPortForward } = await import('../kube/portforward.js');
  const forward = await openPortForward(kube, { namespace, service, port: webProxyPort }, { signal: ctx.signal, debug: (m) => ctx.out.debug(m) });
  ctx.out.debug(`endpoint: ${forward.url} (port-forward to service ${service}, pod ${forward.pod}:${forward.podPort})`);
  return { baseUrl: forward.url, via: 'port-forward', namespace, instance: located.instance, close: forward.close };
}

/**
 * Where the endpoint is, without opening anything: a published address (`baseUrl` set), or the Service a
 * port-forward would reach (`baseUrl` undefined, `service` set). `sympozium env` stops here.
 */
export interface LocatedEndpoint {
  baseUrl?: string;
  via: EndpointVia;
  namespace?: string;
  instance?: SympoziumInstance;
  /** Set when there is no usable published address: the proxy's Service, which exists. */
  service?: string;
}

export async function locateEndpoint(ctx: Pick<Context, 'kube' | 'out'>, instanceName: string, options: EndpointOptions): Promise<LocatedEndpoint> {
  if (options.url) {
    const baseUrl = normalizeBaseUrl(options.url);
    checkKeyTransport(ctx, baseUrl, '--url', options);
    ctx.out.debug(`endpoint: ${baseUrl} (from --url)`);
    return { baseUrl, via: 'flag' };
  }

  // Loaded only here: with --url, nothing of the cluster client is needed.
  const [kube, { isNotFound }, { discoverInstanceKind, instancePath }, { webEndpointEnabled }] = await Promise.all([
    ctx.kube(),
    import('../kube/errors.js'),
    import('./kinds.js'),
    import('./web-endpoint.js'),
  ]);
  const cluster: ClusterHelpers = { isNotFound, discoverInstanceKind, instancePath, webEndpointEnabled };
  const namespace = options.namespace ?? kube.namespace;
  const kind = await discoverInstanceKind(kube);
  const path = instancePath(kind, namespace, instanceName);
  const instance = await kube.getOrUndefined<SympoziumInstance>(path);
  if (!instance) {
    const { instanceNotFound } = await import('./instances.js');
    throw await instanceNotFound(kube, { kind, namespace, name: instanceName, path });
  }

  // A published address is used only if its host resolves from here: internal and not-yet-created DNS names
  // are common, and a port-forward reaches the same proxy without them.
  const unresolved: string[] = [];
  // The status is written by whoever may patch it, so its URL is untrusted input: only http(s), and the key
  // goes to a plain-http one only on loopback or when the user allows it.
  const statusUrl = trustedUrl(ctx, instance.status?.webEndpoint?.url, "the instance's status.webEndpoint.url");
  if (statusUrl) {
    const baseUrl = statusUrl;
    const problem = await unresolvable(baseUrl);
    if (!problem) {
      checkKeyTransport(ctx, baseUrl, "the instance's status.webEndpoint.url", options);
      ctx.out.debug(`endpoint: ${baseUrl} (from the instance's status.webEndpoint.url)`);
      return { baseUrl, via: 'status', namespace, instance };
    }
    unresolved.push(`${baseUrl} (status.webEndpoint.url): ${problem}`);
  }

  const runName = names.webEndpointRun(instanceName);
  const { publicUrl } = await import('./public-url.js');
  const route = await publicUrl(kube, namespace, instanceName);
  const routeUrl = route?.url;
  if (route && routeUrl && !unresolved.some((entry) => entry.startsWith(`${routeUrl} `))) {
    const problem = await unresolvable(routeUrl);
    if (!problem) {
      checkKeyTransport(ctx, routeUrl, route.source, options);
      ctx.out.debug(`endpoint: ${routeUrl} (from ${route.source})`);
      return { baseUrl: routeUrl, via: 'httproute', namespace, instance };
    }
    unresolved.push(`${routeUrl} (${route.source}): ${problem}`);
  }
  for (const entry of unresolved) ctx.out.debug(`endpoint: not using ${entry}`);

  const service = names.serverService(runName);
  const exists = await kube.getOrUndefined(`/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(service)}`);
  if (!exists && unresolved.length > 0) {
    throw new CliError(`the web endpoint of ${instanceName} is published at an address that does not resolve from here, and service ${service} is not there to port-forward to`, {
      hint: `Tried ${unresolved.join('; ')}. Pass --url with an address that works from this machine.`,
    });
  }
  if (!exists) throw notServing(instance, namespace, cluster);
  return { via: 'port-forward', namespace, instance, service };
}

/** A URL read from the cluster, normalised, or undefined (with a note under -v) when it is not http(s) at all. */
function trustedUrl(ctx: Pick<Context, 'out'>, raw: string | undefined, source: string): string | undefined {
  if (!raw) return undefined;
  try {
    const protocol = new URL(raw).protocol;
    if (protocol === 'http:' || protocol === 'https:') return normalizeBaseUrl(raw);
  } catch {
    // Not a URL: ignored like any other scheme.
  }
  ctx.out.debug(`endpoint: ignoring ${source} ${JSON.stringify(raw)}: not an http:// or https:// URL`);
  return undefined;
}

/**
 * The API key travels only over TLS or loopback: plain http to any other host would show it to everyone on
 * the path. Refused (exit 2) unless the user passed --allow-http, and then said out loud.
 */
function checkKeyTransport(ctx: Pick<Context, 'out'>, baseUrl: string, source: string, options: EndpointOptions): void {
  const url = new URL(baseUrl);
  if (options.carriesKey === false || url.protocol !== 'http:' || isLoopbackHost(url.hostname)) return;
  if (!options.allowHttp) {
    throw usageError(`refusing to send the API key over plain http to ${url.origin} (from ${source}): anyone on the network path could read it`, 'Use an https:// address, or pass --allow-http if you trust this network.');
  }
  ctx.out.warn(`sending the API key over plain http to ${url.origin} (--allow-http): anyone on the network path can read it`);
}

/** Why the URL's host cannot be resolved from here, or undefined when it can (or is an IP address). */
async function unresolvable(url: string, timeoutMs = 2_000): Promise<string | undefined> {
  const { hostname } = new URL(url);
  const { isIP } = await import('node:net');
  if (isIP(hostname.replace(/^\[|\]$/g, '')) || hostname === 'localhost') return undefined;
  const { lookup } = await import('node:dns/promises');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no DNS answer within ${timeoutMs / 1000}s`), timeoutMs)));
  try {
    return await Promise.race([
      lookup(hostname).then(
        () => undefined,
        (error: NodeJS.ErrnoException) => (error.code === 'ENOTFOUND' ? 'the host name does not resolve' : `DNS lookup failed (${error.code ?? error.message})`),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Accepts `https://host`, `https://host/` and the OpenAI-style `https://host/v1`; anything else is a usage error. */
export function normalizeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`--url must be an http:// or https:// URL, not "${raw}"`, 'For example: --url https://demo.example.com');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`--url must be an http:// or https:// URL, not "${raw}"`, 'For example: --url https://demo.example.com');
  }
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '').replace(/\/v1$/, '');
}

function notServing(instance: SympoziumInstance, namespace: string, cluster: ClusterHelpers): CliError {
  const name = instance.metadata.name;
  const service = names.serverService(names.webEndpointRun(name));
  if (!cluster.webEndpointEnabled(instance)) {
    return new CliError(`the web endpoint of instance ${name} is not enabled`, {
      hint: `Enable it with \`sympozium enable web-endpoint ${name}\`${namespace === 'default' ? '' : ` -n ${namespace}`}.`,
    });
  }
  return new CliError(`the web endpoint of instance ${name} is enabled but not ready: service ${service} does not exist yet`, {
    hint: `The controller creates it shortly after the skill is added: watch with \`sympozium instances describe ${name}\`, or wait for it with \`sympozium enable web-endpoint ${name}\`.`,
  });
}

interface ClusterHelpers {
  isNotFound: typeof import('../kube/errors.js').isNotFound;
  discoverInstanceKind: typeof import('./kinds.js').discoverInstanceKind;
  instancePath: typeof import('./kinds.js').instancePath;
  webEndpointEnabled: typeof import('./web-endpoint.js').webEndpointEnabled;
}
