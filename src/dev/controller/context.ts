import type { KubeClient, KubeObject } from '../../kube/client.js';
import type { AgentRun, SympoziumInstance } from '../../sympozium/types.js';
import type { AgentEventBus } from '../providers/streams.js';
import type { ProxyManager } from '../webproxy/index.js';
import type { Informer } from './informer.js';
import type { ReleaseProfile } from './release-profile.js';
import type { WorkQueue } from './queue.js';
import type { Secret } from './resources.js';
import type { Timings } from './timings.js';

export interface Deployment extends KubeObject {
  spec?: Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
    unavailableReplicas?: number;
    conditions?: unknown[];
  };
}

export interface Pod extends KubeObject {
  spec?: Record<string, unknown>;
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

/** Everything the reconcilers share: the API clients, the watch caches, the queue and the proxies. */
export interface ControllerContext {
  /** For reads and writes. */
  client: KubeClient;
  timings: Timings;
  log: (line: string) => void;
  /** What the upstream release being emulated names differently (the instance kind, the run's reference). */
  profile: ReleaseProfile;
  gatewayBaseDomain?: string;
  historyLimit: number;
  instances: Informer<SympoziumInstance>;
  runs: Informer<AgentRun>;
  secrets: Informer<Secret>;
  deployments: Informer<Deployment>;
  services: Informer<KubeObject>;
  pods: Informer<Pod>;
  queue: WorkQueue;
  proxies: ProxyManager;
  /** What the agents' ipc-bridges and the controller publish for the web proxy (upstream's NATS bus). */
  bus: AgentEventBus;
  /** The kubelet's part: container output that `kubectl logs` reads (the API server keeps it). */
  podLogs?: PodLogWriter;
}

export interface PodLogWriter {
  append(namespace: string, pod: string, container: string, text: string): void;
  end(namespace: string, pod: string, container: string): void;
}

export const queueKeys = {
  instance: (namespace: string, name: string) => `instance:${namespace}/${name}`,
  run: (namespace: string, name: string) => `run:${namespace}/${name}`,
  prune: (namespace: string, instance: string) => `prune:${namespace}/${instance}`,
};
