import { CliError } from '../errors.js';
import { resourcePath, type KubeClient } from '../kube/client.js';
import { KubeApiError } from '../kube/errors.js';
import { group, version } from './types.js';

/**
 * Which instance kind the cluster serves. Sympozium v0.5 serves SympoziumInstance; v0.10 renamed it to Agent
 * (and AgentRun's spec.instanceRef to agentRef) without a conversion, so the CLI asks discovery once per
 * command and works with whichever it finds.
 */
export interface InstanceKind {
  kind: 'SympoziumInstance' | 'Agent';
  plural: 'sympoziuminstances' | 'agents';
  group: string;
  version: string;
  /** The AgentRun spec field that names the instance on this cluster. */
  runRefField: 'instanceRef' | 'agentRef';
}

export const sympoziumInstanceKind: InstanceKind = {
  kind: 'SympoziumInstance',
  plural: 'sympoziuminstances',
  group,
  version,
  runRefField: 'instanceRef',
};

const agentKind: InstanceKind = { kind: 'Agent', plural: 'agents', group, version, runRefField: 'agentRef' };

interface ApiResourceList {
  resources?: { name: string; kind: string; namespaced?: boolean; verbs?: string[] }[];
}

/** The resource names sympozium.ai/v1alpha1 serves, fetched once per client (one command). */
const servedCache = new WeakMap<KubeClient, Promise<Set<string> | undefined>>();

/** The plural names served under sympozium.ai/v1alpha1, or undefined when the group is not served at all. */
export function sympoziumResources(kube: KubeClient): Promise<Set<string> | undefined> {
  let cached = servedCache.get(kube);
  if (!cached) {
    cached = kube
      .get<ApiResourceList>(`/apis/${group}/${version}`)
      .then((list) => new Set((list.resources ?? []).map((resource) => resource.name)))
      .catch((error: unknown) => {
        if (error instanceof KubeApiError && error.code === 404) return undefined;
        throw error;
      });
    servedCache.set(kube, cached);
    // A failed discovery (cluster down) must not be cached: a retry in the same process should ask again.
    cached.catch(() => servedCache.delete(kube));
  }
  return cached;
}

export async function discoverInstanceKind(kube: KubeClient): Promise<InstanceKind> {
  const served = await sympoziumResources(kube);
  // A cluster mid-upgrade could serve both; the CLI writes SympoziumInstance (v0.5.8's kind, the default release),
  // so prefer it.
  if (served?.has('sympoziuminstances')) return sympoziumInstanceKind;
  if (served?.has('agents')) return agentKind;
  throw new CliError(
    served
      ? `the cluster at ${kube.describe()} serves ${group}/${version} but neither SympoziumInstance nor Agent`
      : `Sympozium is not installed on ${kube.describe()}: the API group ${group}/${version} is not served`,
    {
      hint: 'Install Sympozium on this cluster (its CRDs and controller), pick another --context, or start a local one with `sympozium dev up`. `sympozium doctor` checks everything.',
    },
  );
}

export function instancePath(kind: InstanceKind, namespace: string | undefined, name?: string): string {
  return resourcePath({ group: kind.group, version: kind.version, plural: kind.plural, namespace, name });
}

export function runPath(namespace: string | undefined, name?: string): string {
  return resourcePath({ group, version, plural: 'agentruns', namespace, name });
}

/** Human name for messages: "instance" for SympoziumInstance, "agent" for Agent. */
export function kindNoun(kind: InstanceKind): string {
  return kind.kind === 'Agent' ? 'agent' : 'instance';
}
