import { resourcePath, type KubeClient, type KubeObject } from './client.js';

/**
 * What the CLI needs to know about Deployments: whether one is ready or rolled out, why not (its
 * conditions and its pods' waiting reasons), and how to restart one the way `kubectl rollout restart` does.
 */

export interface Deployment extends KubeObject {
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template?: { metadata?: { annotations?: Record<string, string> }; spec?: { containers?: Container[]; volumes?: Volume[] } };
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

interface Container {
  name: string;
  env?: { name: string; valueFrom?: { secretKeyRef?: { name?: string; key?: string } } }[];
  envFrom?: { secretRef?: { name?: string } }[];
}
interface Volume {
  name: string;
  secret?: { secretName?: string };
}

export function deploymentPath(namespace: string, name?: string): string {
  return resourcePath({ group: 'apps', version: 'v1', plural: 'deployments', namespace, name });
}

function desiredReplicas(deployment: Deployment): number {
  return deployment.spec?.replicas ?? 1;
}

/** Ready: at least one replica (and all wanted) report ready. */
export function deploymentReady(deployment: Deployment): boolean {
  const wanted = desiredReplicas(deployment);
  const ready = deployment.status?.readyReplicas ?? 0;
  return ready >= Math.max(1, wanted);
}

/** Rolled out like `kubectl rollout status`: the new template observed, updated, ready, and no old pods left. */
export function deploymentRolledOut(deployment: Deployment): boolean {
  const status = deployment.status ?? {};
  const wanted = desiredReplicas(deployment);
  return (
    (status.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 0) &&
    (status.updatedReplicas ?? 0) >= wanted &&
    (status.readyReplicas ?? 0) >= wanted &&
    (status.replicas ?? 0) <= wanted
  );
}

/** "0/1 ready; Available=False (MinimumReplicasUnavailable: ...)" for a stage that did not come. */
export function deploymentProblem(deployment: Deployment): string {
  const wanted = desiredReplicas(deployment);
  const parts = [`${deployment.status?.readyReplicas ?? 0}/${wanted} ready`];
  for (const condition of deployment.status?.conditions ?? []) {
    if (condition.status !== 'True' || condition.type === 'ReplicaFailure') {
      parts.push(`${condition.type}=${condition.status}${condition.reason ? ` (${condition.reason}${condition.message ? `: ${condition.message}` : ''})` : ''}`);
    }
  }
  return parts.join('; ');
}

interface Pod {
  metadata: { name: string };
  status?: {
    phase?: string;
    containerStatuses?: { name: string; state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } } }[];
  };
}

/** The waiting or terminated reasons of the Deployment's pods (ImagePullBackOff, CrashLoopBackOff, ...). */
export async function podProblems(kube: KubeClient, namespace: string, deployment: Deployment): Promise<string[]> {
  const labels = deployment.spec?.selector?.matchLabels;
  if (!labels) return [];
  return podProblemsOf(kube, namespace, Object.entries(labels).map(([key, value]) => `${key}=${value}`).join(','));
}

/**
 * The same for the pods a label selector picks (a task run's pod: `sympozium.ai/agent-run=<run>`); with
 * `waitingOnly`, only containers the kubelet cannot start, which is what keeps a run Running for nothing.
 */
export async function podProblemsOf(kube: KubeClient, namespace: string, selector: string, options: { waitingOnly?: boolean } = {}): Promise<string[]> {
  try {
    const pods = await kube.list<Pod>(resourcePath({ group: '', version: 'v1', plural: 'pods', namespace }), { labelSelector: selector });
    const problems: string[] = [];
    for (const pod of pods.items) {
      for (const container of pod.status?.containerStatuses ?? []) {
        const waiting = container.state?.waiting;
        const terminated = container.state?.terminated;
        if (waiting?.reason && !(options.waitingOnly && waiting.reason === 'ContainerCreating')) problems.push(`pod ${pod.metadata.name} container ${container.name}: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`);
        else if (terminated?.reason && !options.waitingOnly) problems.push(`pod ${pod.metadata.name} container ${container.name}: ${terminated.reason} (exit ${terminated.exitCode ?? '?'})`);
      }
      if (!pod.status?.containerStatuses?.length && pod.status?.phase && !options.waitingOnly) problems.push(`pod ${pod.metadata.name}: ${pod.status.phase}`);
    }
    return problems;
  } catch {
    return [];
  }
}

/**
 * How the Deployment's pods see a Secret: 'env' (read once at start: a restart is needed to see a new value),
 * 'volume' (refreshed by the kubelet, eventually), or 'none' (the pod reads it through the API, or not at all).
 */
export function secretUsage(deployment: Deployment, secretName: string): 'env' | 'volume' | 'none' {
  const spec = deployment.spec?.template?.spec;
  for (const container of spec?.containers ?? []) {
    if (container.env?.some((variable) => variable.valueFrom?.secretKeyRef?.name === secretName)) return 'env';
    if (container.envFrom?.some((source) => source.secretRef?.name === secretName)) return 'env';
  }
  if (spec?.volumes?.some((volume) => volume.secret?.secretName === secretName)) return 'volume';
  return 'none';
}

/** `kubectl rollout restart`: a new pod-template annotation makes the Deployment replace its pods. */
export async function restartDeployment(kube: KubeClient, namespace: string, name: string, now: Date): Promise<Deployment> {
  return kube.mergePatch<Deployment>(deploymentPath(namespace, name), {
    spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': now.toISOString() } } } },
  });
}
