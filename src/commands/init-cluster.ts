import type { Context } from '../context.js';
import type { AskContext } from '../ui/prompts.js';
import { instanceKinds, type InstanceKindName } from '../sympozium/scaffold.js';
import { defaultRelease, upstreamBuiltins } from '../sympozium/releases.js';

// What `sympozium init` asks of a cluster, if one answers in time: the kind it serves (SympoziumInstance or
// Agent), the policies that exist, and the context's namespace. init works offline, so none of it is required.

interface ClusterFacts {
  where: string;
  namespace: string;
  /** The instance kind the cluster serves; undefined when Sympozium is not installed there. */
  kind?: InstanceKindName;
  policies: string[];
}

/** How long init waits for a cluster it does not need: it works offline, so an unreachable one must not stall it. */
const clusterProbeMs = 1500;

/**
 * What the current kubectl context's cluster serves, if it answers quickly: the instance kind (Agent from
 * Sympozium v0.10, SympoziumInstance before) and the SympoziumPolicies of the target namespace. Undefined when
 * there is no kubeconfig or the cluster does not answer: init then works offline.
 */
export async function clusterFacts(ctx: Context, namespace: string | undefined): Promise<ClusterFacts | undefined> {
  try {
    const kube = await ctx.kube();
    const discovery = await kube
      .request<{ resources?: { name: string }[] }>({ path: '/apis/sympozium.ai/v1alpha1', timeoutMs: clusterProbeMs })
      .then((response) => response.body)
      .catch((error: unknown) => {
        if ((error as { code?: number }).code === 404) return undefined;
        throw error;
      });
    const served = new Set((discovery?.resources ?? []).map((resource) => resource.name));
    const kind = served.has('sympoziuminstances') ? 'SympoziumInstance' : served.has('agents') ? 'Agent' : undefined;
    const target = namespace ?? kube.namespace;
    const policies = served.has('sympoziumpolicies')
      ? await kube
          .request<{ items?: { metadata?: { name?: string } }[] }>({ path: `/apis/sympozium.ai/v1alpha1/namespaces/${encodeURIComponent(target)}/sympoziumpolicies`, timeoutMs: clusterProbeMs })
          .then((response) => (response.body.items ?? []).map((item) => item.metadata?.name).filter((name): name is string => Boolean(name)))
          .catch(() => [])
      : [];
    return { where: kube.describe(), namespace: target, kind, policies };
  } catch (error) {
    ctx.out.debug(`init: no cluster to ask (${(error as Error).message}); working offline`);
    return undefined;
  }
}

/**
 * --kind, else asked on a terminal (defaulting to what the cluster serves), else what a reachable cluster serves
 * (said on stderr), else SympoziumInstance: the kind of v0.5.8, the release the CLI targets offline.
 */
export async function chooseKind(given: InstanceKindName | undefined, cluster: ClusterFacts | undefined, ask: AskContext, ctx: Context): Promise<InstanceKindName> {
  const served = cluster?.kind;
  if (given) {
    if (served && served !== given) {
      ctx.out.warn(`${cluster!.where} serves ${served}, not ${given}: apply will refuse this file there (sympozium migrate converts v0.5 manifests to v0.10)`);
    }
    return given;
  }
  const fallback: InstanceKindName = served ?? 'SympoziumInstance';
  if (ask.interactive && !ask.yes) {
    return ctx.prompt.select<InstanceKindName>({
      message: served ? `Kind (${cluster!.where} serves ${served})` : 'Kind',
      choices: instanceKinds.map((value) => ({ value, name: value === 'Agent' ? 'Agent (Sympozium v0.10 and later)' : 'SympoziumInstance (Sympozium v0.5)' })),
      default: fallback,
    });
  }
  if (served) ctx.out.info(`writing ${served === 'Agent' ? 'an Agent' : 'a SympoziumInstance'}: ${cluster!.where} serves that kind (pass --kind to choose)`);
  return fallback;
}

/** Upstream's policy presets (config/policies) of the release that serves the kind. */
export function presetNames(kind: InstanceKindName): string[] {
  const release = kind === 'Agent' ? 'v0.10.46' : defaultRelease;
  return upstreamBuiltins(release).policies.map((policy) => (policy.metadata as { name: string }).name);
}
