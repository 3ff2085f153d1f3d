import { CliError } from '../errors.js';
import { resourcePath, type KubeClient } from './client.js';
import { KubeApiError } from './errors.js';

/**
 * Legacy discovery (GET /api/v1, GET /apis/<group>/<version>) to map a manifest's apiVersion and kind to a
 * resource path, fetched at most once per group-version per client, so applying 200 files costs a handful
 * of discovery requests rather than one per object.
 */
export interface ApiResource {
  name: string;
  singularName?: string;
  namespaced: boolean;
  kind: string;
  verbs?: string[];
  shortNames?: string[];
}

export interface ResolvedResource {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
  kind: string;
}

const caches = new WeakMap<KubeClient, Map<string, Promise<ApiResource[] | undefined>>>();

/** The top-level resources of one group-version, or undefined when the cluster does not serve it. */
export function groupVersionResources(kube: KubeClient, apiVersion: string): Promise<ApiResource[] | undefined> {
  let cache = caches.get(kube);
  if (!cache) caches.set(kube, (cache = new Map()));
  let entry = cache.get(apiVersion);
  if (!entry) {
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    entry = kube
      .get<{ resources?: ApiResource[] }>(path)
      .then((list) => (list.resources ?? []).filter((resource) => !resource.name.includes('/')))
      .catch((error: unknown) => {
        if (error instanceof KubeApiError && error.code === 404) return undefined;
        throw error;
      });
    cache.set(apiVersion, entry);
    entry.catch(() => cache.delete(apiVersion));
  }
  return entry;
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export async function resolveResource(kube: KubeClient, apiVersion: string, kind: string): Promise<ResolvedResource> {
  const resources = await groupVersionResources(kube, apiVersion);
  const { group, version } = splitApiVersion(apiVersion);
  const found = resources?.find((resource) => resource.kind === kind);
  if (!found) {
    const sympozium = group === 'sympozium.ai';
    throw new CliError(
      resources
        ? `the cluster serves ${apiVersion} but not kind ${kind}`
        : `the cluster does not serve ${apiVersion} (needed for kind ${kind})`,
      {
        hint: sympozium
          ? 'Install the Sympozium CRDs on this cluster (or use `sympozium dev up`); `sympozium doctor` shows what is served.'
          : `Install the CRD that defines ${kind}, or check the apiVersion in the manifest.`,
      },
    );
  }
  return { group, version, plural: found.name, namespaced: found.namespaced, kind };
}

export function objectPath(resource: ResolvedResource, namespace: string | undefined, name?: string): string {
  return resourcePath({ group: resource.group, version: resource.version, plural: resource.plural, namespace: resource.namespaced ? namespace : undefined, name });
}
