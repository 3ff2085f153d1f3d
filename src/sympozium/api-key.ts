import { CliError } from '../errors.js';
import { resourcePath, type KubeClient } from '../kube/client.js';
import { KubeApiError } from '../kube/errors.js';
import { components, labels, names, type SympoziumInstance } from './types.js';
import { configuredAuthSecret, webEndpointEnabled } from './web-endpoint.js';

/**
 * Finding the web endpoint's API key. Its Secret's name depends on who created it (upstream's code, upstream's
 * docs, the project's design notes, the user), so the lookup walks docs/sympozium-contract.md §3's list in order
 * and, when nothing is there, says every place it looked. The key itself never reaches an error or a log line.
 */

export interface FoundApiKey {
  /** The Secret's name. */
  secret: string;
  namespace: string;
  /** The key itself: print it only under --reveal. */
  key: string;
  /** The data key inside the Secret (normally `api-key`). */
  dataKey: string;
  /** Where the name came from, for messages: "Secret demo-web-endpoint-key (the design notes' name)". */
  source: string;
}

interface SecretObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  type?: string;
}

/** Data keys the proxy's key may live under; `api-key` is the contract's, the others are common mistakes. */
export const apiKeyDataKeys = ['api-key', 'apiKey', 'api_key', 'key'];

export interface KeyCandidate {
  name: string;
  source: string;
}

/** The named places to look, in the contract's order (the label search comes last, separately). */
export function keySecretCandidates(instance: SympoziumInstance): { candidates: KeyCandidate[]; notSet: string[] } {
  const instanceName = instance.metadata.name;
  const candidates: KeyCandidate[] = [];
  const notSet: string[] = [];
  const fromStatus = instance.status?.webEndpoint?.authSecretName;
  if (fromStatus) candidates.push({ name: fromStatus, source: 'status.webEndpoint.authSecretName' });
  else notSet.push('status.webEndpoint.authSecretName (not set)');
  const configured = configuredAuthSecret(instance);
  if (configured) candidates.push(configured);
  else notSet.push('the auth_secret_ref param / spec.webEndpoint.authSecretRef (not set)');
  const run = names.webEndpointRun(instanceName);
  candidates.push(
    // Upstream's controller name first: it is what real clusters (and dev) create.
    { name: names.webProxyKeySecret(instanceName), source: "upstream's controller name" },
    { name: names.webEndpointKeySecret(instanceName), source: "the design notes' name" },
    { name: `${run}-web-api-key`, source: "upstream's documented name" },
  );
  // The same name can come from two places (status and the default); look once, keep the first reason.
  const unique = candidates.filter((candidate, index) => candidates.findIndex((c) => c.name === candidate.name) === index);
  return { candidates: unique, notSet };
}

export function secretPath(namespace: string, name?: string): string {
  return resourcePath({ group: '', version: 'v1', plural: 'secrets', namespace, name });
}

function keyFrom(secret: SecretObject): { key: string; dataKey: string } | undefined {
  for (const dataKey of apiKeyDataKeys) {
    const encoded = secret.data?.[dataKey];
    if (encoded) {
      const key = Buffer.from(encoded, 'base64').toString('utf8').trim();
      if (key) return { key, dataKey };
    }
  }
  return undefined;
}

export async function findApiKey(kube: KubeClient, instance: SympoziumInstance, namespace: string): Promise<FoundApiKey> {
  const { candidates, notSet } = keySecretCandidates(instance);
  const selector = `${labels.instance}=${instance.metadata.name},${labels.component}=${components.webProxy}`;
  // The first candidate is almost always the one (the status names it, or it is upstream's controller name): ask for it
  // alone first, because parallel requests over HTTP/1.1 each pay a TLS handshake. The rest are independent:
  // ask them in parallel, then take the first hit in the contract's order.
  const first = await kube.getOrUndefined<SecretObject>(secretPath(namespace, candidates[0]!.name));
  const firstKey = first && keyFrom(first);
  if (firstKey) return { secret: candidates[0]!.name, namespace, ...firstKey, source: `Secret ${candidates[0]!.name} (${candidates[0]!.source})` };
  const [rest, labelled] = await Promise.all([
    Promise.all(candidates.slice(1).map((candidate) => kube.getOrUndefined<SecretObject>(secretPath(namespace, candidate.name)))),
    kube.list<SecretObject>(secretPath(namespace), { labelSelector: selector }).catch((error: unknown) => {
      // A user allowed to read named Secrets but not to list them still gets the named lookups.
      if (error instanceof KubeApiError && error.code === 403) return undefined;
      throw error;
    }),
  ]);

  const named = [first, ...rest];
  const looked: string[] = [...notSet];
  for (const [index, candidate] of candidates.entries()) {
    const secret = named[index];
    if (!secret) {
      looked.push(`Secret ${candidate.name} (${candidate.source}): not found`);
      continue;
    }
    const found = keyFrom(secret);
    if (found) return { secret: candidate.name, namespace, ...found, source: `Secret ${candidate.name} (${candidate.source})` };
    looked.push(`Secret ${candidate.name} (${candidate.source}): exists but has no api-key data`);
  }
  const sorted = [...(labelled?.items ?? [])].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const secret of sorted) {
    const found = keyFrom(secret);
    if (found) {
      return { secret: secret.metadata.name, namespace, ...found, source: `Secret ${secret.metadata.name} (labelled ${selector})` };
    }
  }
  looked.push(labelled ? `Secrets labelled ${selector}: ${sorted.length === 0 ? 'none' : `${sorted.length} without api-key data`}` : `Secrets labelled ${selector}: not allowed to list Secrets`);

  const name = instance.metadata.name;
  const enabled = webEndpointEnabled(instance);
  throw new CliError(`no API key found for ${name} in namespace ${namespace}. Looked at:\n  - ${looked.join('\n  - ')}`, {
    hint: enabled
      ? `The web endpoint is enabled but no key Secret exists yet: the controller may still be creating it. Run \`sympozium enable web-endpoint ${name}\` to wait for it, or \`sympozium instances describe ${name}\` to see why not.`
      : `The web endpoint is not enabled on ${name}. Enable it with \`sympozium enable web-endpoint ${name}\`.`,
  });
}
