import type { KubeClient } from '../kube/client.js';
import { KubeApiError } from '../kube/errors.js';
import { names } from './types.js';

/**
 * The public address of an instance's web endpoint as upstream publishes it. Upstream's controller never writes
 * a URL into any status: when the SympoziumConfig enables a ready Gateway, it creates the HTTPRoute
 * `<instance>-web-endpoint-web` (the server run's name plus `-web`) in the instance's namespace with one hostname
 * (the skill's `hostname` param, else `<instance>.<baseDomain>`) and the Gateway `sympozium-gateway` in
 * sympozium-system as its parent (internal/controller/agentrun_controller.go, maybeCreateHTTPRoute, v0.5.8 and
 * v0.10.46). The scheme and port come from the parent Gateway's listeners; whether the route is live from its
 * status.parents conditions.
 */

const httpRouteGroupVersion = 'gateway.networking.k8s.io/v1';

interface ParentRef {
  name?: string;
  namespace?: string;
  sectionName?: string;
  port?: number;
}

export interface HttpRoute {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: { hostnames?: string[]; parentRefs?: ParentRef[] };
  status?: { parents?: { parentRef?: ParentRef; conditions?: { type?: string; status?: string; reason?: string; message?: string }[] }[] };
}

interface Gateway {
  spec?: { listeners?: { name?: string; protocol?: string; port?: number; hostname?: string }[] };
}

export interface PublicUrl {
  url: string;
  /** Where it came from, for messages: `HTTPRoute demo-web-endpoint-web (Gateway sympozium-system/sympozium-gateway, HTTPS listener)`. */
  source: string;
  /** The route's Accepted condition from its parent: true, false, or undefined when not reported. */
  accepted?: boolean;
  /** The reason the parent gave when it did not accept the route. */
  problem?: string;
}

function hostMatches(listenerHost: string | undefined, host: string): boolean {
  if (!listenerHost) return true;
  if (listenerHost.startsWith('*.')) return host.endsWith(listenerHost.slice(1)) && host.split('.').length > listenerHost.split('.').length - 1;
  return listenerHost === host;
}

/**
 * The base URL a route serves: its first concrete hostname, with the scheme (and a non-default port) of the
 * parent Gateway's listener that takes it, when the Gateway can be read. Without it, https, unless every parent
 * reference points at a plain-HTTP listener (port 80 or a section named http).
 */
export function routeBaseUrl(route: HttpRoute, gateway?: Gateway): string | undefined {
  const hostname = route.spec?.hostnames?.find((candidate) => candidate && !candidate.includes('*'));
  if (!hostname) return undefined;
  const parents = route.spec?.parentRefs ?? [];
  const listeners = (gateway?.spec?.listeners ?? []).filter(
    (listener) =>
      /^https?$/i.test(listener.protocol ?? '') &&
      hostMatches(listener.hostname, hostname) &&
      (parents.length === 0 || parents.some((parent) => (!parent.sectionName || parent.sectionName === listener.name) && (!parent.port || parent.port === listener.port))),
  );
  if (listeners.length > 0) {
    const secure = listeners.find((listener) => /^https$/i.test(listener.protocol ?? ''));
    const chosen = secure ?? listeners[0]!;
    const scheme = secure ? 'https' : 'http';
    const defaultPort = secure ? 443 : 80;
    return `${scheme}://${hostname}${chosen.port && chosen.port !== defaultPort ? `:${chosen.port}` : ''}`;
  }
  const plainHttp = parents.length > 0 && parents.every((parent) => parent.port === 80 || /^http$/i.test(parent.sectionName ?? ''));
  return `${plainHttp ? 'http' : 'https'}://${hostname}`;
}

/** Not there, not served or not readable: nothing is known, which is not an error here. */
async function readIfAllowed<T>(kube: KubeClient, path: string): Promise<T | undefined> {
  try {
    return await kube.getOrUndefined<T>(path);
  } catch (error) {
    if (error instanceof KubeApiError && (error.code === 404 || error.code === 403)) return undefined;
    throw error;
  }
}

/** The instance's public URL from its HTTPRoute, or undefined when it has none (no Gateway, no hostname). */
export async function publicUrl(kube: KubeClient, namespace: string, instanceName: string): Promise<PublicUrl | undefined> {
  const name = names.httpRoute(names.webEndpointRun(instanceName));
  const route = await readIfAllowed<HttpRoute>(kube, `/apis/${httpRouteGroupVersion}/namespaces/${encodeURIComponent(namespace)}/httproutes/${encodeURIComponent(name)}`);
  if (!route) return undefined;
  const parent = route.spec?.parentRefs?.[0];
  const gatewayNamespace = parent?.namespace ?? namespace;
  const gateway =
    parent?.name !== undefined
      ? await readIfAllowed<Gateway>(kube, `/apis/${httpRouteGroupVersion}/namespaces/${encodeURIComponent(gatewayNamespace)}/gateways/${encodeURIComponent(parent.name)}`)
      : undefined;
  const url = routeBaseUrl(route, gateway);
  if (!url) return undefined;
  const accepted = route.status?.parents?.flatMap((entry) => entry.conditions ?? []).find((condition) => condition.type === 'Accepted');
  const via = parent?.name ? `Gateway ${gatewayNamespace}/${parent.name}${gateway ? '' : ' not found or not readable: https assumed'}` : 'no parent Gateway';
  return {
    url,
    source: `HTTPRoute ${name} (${via})`,
    accepted: accepted ? accepted.status === 'True' : undefined,
    problem: accepted && accepted.status !== 'True' ? [accepted.reason, accepted.message].filter(Boolean).join(': ') || undefined : undefined,
  };
}
