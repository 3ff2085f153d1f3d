import type { KubeClient } from '../kube/client.js';
import { findApiKey } from './api-key.js';
import { publicUrl } from './public-url.js';
import { labels, names, type AgentRun, type SympoziumInstance } from './types.js';
import { webEndpointEnabled } from './web-endpoint.js';

/**
 * The web endpoint as the objects upstream maintains show it, for `instances list|describe`, `enable` and
 * `doctor` alike. Upstream writes no status.webEndpoint (sympoziuminstance_controller.go sets only phase,
 * activeAgentPods and channels), so the state is the server run's phase, the URL is the HTTPRoute's, and the
 * key Secret is found where upstream's controller puts it. A status URL some other controller wrote still wins.
 */
export interface EndpointView {
  /** `Serving`, `Failed: <error>`, `Pending`, or `no server run yet`. */
  state: string;
  serverRun?: AgentRun;
  url?: string;
  /** Where the URL came from. */
  urlSource?: string;
  /** The route's parent has not accepted it: why. */
  urlProblem?: string;
  /** The key Secret's name, or undefined when none exists yet. */
  keySecret?: string;
  keySource?: string;
}

/** The instance's server run among runs already listed, by upstream's name or its component label. */
function serverRunOf(instance: SympoziumInstance, runs: AgentRun[]): AgentRun | undefined {
  const name = names.webEndpointRun(instance.metadata.name);
  return (
    runs.find((run) => run.metadata.name === name && run.metadata.namespace === instance.metadata.namespace) ??
    runs.find(
      (run) =>
        run.metadata.namespace === instance.metadata.namespace &&
        run.metadata.labels?.[labels.instance] === instance.metadata.name &&
        run.metadata.labels?.[labels.component] === 'web-endpoint',
    )
  );
}

function serverRunState(run: AgentRun | undefined): string {
  if (!run) return 'no server run yet';
  if (run.metadata.deletionTimestamp) return 'server run deleting';
  const phase = run.status?.phase;
  if (phase === 'Failed') return `Failed: ${run.status?.error || 'no error recorded'}`;
  return phase || 'Pending';
}

function statusUrl(instance: SympoziumInstance): string | undefined {
  const raw = instance.status?.webEndpoint?.url;
  return typeof raw === 'string' && /^https?:\/\//i.test(raw) ? raw : undefined;
}

/** Undefined when the web endpoint is off. `runs` are the instance's runs if the caller has them already. */
export async function observeEndpoint(kube: KubeClient, instance: SympoziumInstance, runs: AgentRun[]): Promise<EndpointView | undefined> {
  if (!webEndpointEnabled(instance)) return undefined;
  const namespace = instance.metadata.namespace ?? kube.namespace;
  const serverRun = serverRunOf(instance, runs);
  const [route, key] = await Promise.all([
    statusUrl(instance) ? undefined : publicUrl(kube, namespace, instance.metadata.name).catch(() => undefined),
    findApiKey(kube, instance, namespace).catch(() => undefined),
  ]);
  const fromStatus = statusUrl(instance);
  return {
    state: serverRunState(serverRun),
    serverRun,
    url: fromStatus ?? route?.url,
    urlSource: fromStatus ? 'status.webEndpoint.url' : route?.source,
    urlProblem: route?.accepted === false ? route.problem ?? 'not accepted by its Gateway' : undefined,
    keySecret: key?.secret,
    keySource: key?.source,
  };
}
