import { resourcePath, type KubeClient } from '../kube/client.js';
import { sympoziumResources } from './kinds.js';
import { systemNamespace } from './types.js';

/**
 * Which Sympozium release a cluster runs, as far as it says: the controller Deployment's image tag in
 * sympozium-system (upstream's Helm chart tags images with the release), and the kinds it serves, which tell
 * the era when no controller can be read (Agent: v0.10 and later; SympoziumInstance: before).
 */

interface Deployment {
  metadata: { name: string };
  spec?: { template?: { spec?: { containers?: { name?: string; image?: string }[] } } };
}

/** The first image of the controller Deployment (named …controller… or …manager…), when it can be read. */
export async function controllerImage(kube: KubeClient): Promise<{ deployment: string; image: string } | undefined> {
  try {
    const list = await kube.list<Deployment>(resourcePath({ group: 'apps', version: 'v1', plural: 'deployments', namespace: systemNamespace }));
    const deployment = list.items.find((item) => /controller|manager/.test(item.metadata.name));
    const image = deployment?.spec?.template?.spec?.containers?.find((container) => container.image)?.image;
    return deployment && image ? { deployment: `${systemNamespace}/${deployment.metadata.name}`, image } : undefined;
  } catch {
    // Not allowed to read Deployments there: the release stays unknown, the kinds still say the era.
    return undefined;
  }
}

/** `v0.10.46` from `ghcr.io/sympozium-ai/sympozium/controller:v0.10.46`, when the tag is a version. */
export function releaseTag(image: string): string | undefined {
  return /:(v?\d+\.\d+\.\d+[^@\s]*)/.exec(image)?.[1];
}

function versionParts(tag: string): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(tag);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

/**
 * Whether the web proxy honours Idempotency-Key, so a retried chat request cannot start a second run: from
 * v0.10.17 (internal/webproxy at 8b74fa0 has it, v0.5.8's has none). Undefined when the cluster does not say.
 */
export async function idempotencyHonoured(kube: KubeClient): Promise<boolean | undefined> {
  const [served, controller] = await Promise.all([sympoziumResources(kube).catch(() => undefined), controllerImage(kube)]);
  const tag = controller && releaseTag(controller.image);
  const parts = tag ? versionParts(tag) : undefined;
  if (parts) return parts[0] > 0 || parts[1] > 10 || (parts[1] === 10 && parts[2] >= 17);
  if (served?.has('sympoziuminstances') && !served.has('agents')) return false;
  // An Agent cluster with no readable tag: most likely a recent v0.10, but not for certain.
  return undefined;
}
