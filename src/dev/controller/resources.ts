import { resourcePath, type KubeClient, type KubeObject } from '../../kube/client.js';
import { KubeApiError } from '../../kube/errors.js';
import { group, version, type AgentRun, type SympoziumInstance } from '../../sympozium/types.js';

/** The collections the controller reads and writes, by plural. */
const kinds = {
  instances: { group, version, plural: 'sympoziuminstances' },
  runs: { group, version, plural: 'agentruns' },
  skillPacks: { group, version, plural: 'skillpacks' },
  policies: { group, version, plural: 'sympoziumpolicies' },
  secrets: { group: '', version: 'v1', plural: 'secrets' },
  services: { group: '', version: 'v1', plural: 'services' },
  pods: { group: '', version: 'v1', plural: 'pods' },
  namespaces: { group: '', version: 'v1', plural: 'namespaces' },
  deployments: { group: 'apps', version: 'v1', plural: 'deployments' },
  jobs: { group: 'batch', version: 'v1', plural: 'jobs' },
  events: { group: '', version: 'v1', plural: 'events' },
  httpRoutes: { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' },
  crds: { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions' },
} as const;
export type KindName = keyof typeof kinds;

export function pathOf(kind: KindName, namespace?: string, name?: string, subresource?: string): string {
  return resourcePath({ ...kinds[kind], namespace, name, subresource });
}

/** The label upstream's controller puts on what it creates for a run (Job, pod, server Deployment, Service). */
export const agentRunLabel = 'sympozium.ai/agent-run';
export const instanceFinalizer = 'sympozium.ai/finalizer';

export interface Secret extends KubeObject {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  type?: string;
}

export function decodeSecret(secret: Secret | undefined): Record<string, string> | undefined {
  if (!secret) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) out[key] = Buffer.from(value, 'base64').toString('utf8');
  for (const [key, value] of Object.entries(secret.stringData ?? {})) out[key] = value;
  return out;
}

export function ownerReference(owner: SympoziumInstance | AgentRun | KubeObject) {
  return {
    apiVersion: owner.apiVersion ?? '',
    kind: owner.kind ?? '',
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Writes that may race with the cache: a 404 on delete or a 409 on create is the desired state already. */
export async function deleteIfExists(client: KubeClient, path: string): Promise<boolean> {
  try {
    // No DeleteOptions body: KubeClient sends bodies without Content-Length, which a DELETE cannot carry.
    await client.request({ method: 'DELETE', path, query: { propagationPolicy: 'Background' } });
    return true;
  } catch (error) {
    if (error instanceof KubeApiError && error.code === 404) return false;
    throw error;
  }
}

export async function createIfMissing<T = KubeObject>(client: KubeClient, path: string, body: unknown): Promise<T | undefined> {
  try {
    return await client.create<T>(path, body);
  } catch (error) {
    if (error instanceof KubeApiError && error.code === 409) return undefined;
    throw error;
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.code === 404;
}

export function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Stable JSON for comparing desired and observed state (key order ignored). */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, item) =>
    item && typeof item === 'object' && !Array.isArray(item) ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b))) : item,
  );
}
