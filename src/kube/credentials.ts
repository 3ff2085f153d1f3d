import type { ResolvedKubeConfig } from './config.js';
import { CliError } from '../errors.js';
import { clientNodeConfig } from './client-node-config.js';

/**
 * Credentials that only @kubernetes/client-node knows how to produce: exec plugins (EKS, GKE, AKS) and auth
 * providers. Imported lazily by client.ts, so commands on token or certificate kubeconfigs never load it.
 */
export async function credentialHeaders(config: ResolvedKubeConfig): Promise<Record<string, string>> {
  const { KubeConfig } = await import('@kubernetes/client-node/dist/config.js');
  // The same merge as port-forward's (first file wins per name), not client-node's, which throws on duplicates.
  const kc = clientNodeConfig(KubeConfig, config);
  const options: { headers: Record<string, string> } = { headers: {} };
  try {
    await kc.applyToHTTPSOptions(options as never);
  } catch (error) {
    throw new CliError(`could not get credentials for context "${config.contextName}": ${(error as Error).message}`, {
      hint: 'The exec plugin or auth provider in the kubeconfig failed: run it by hand (e.g. `aws eks get-token`, `gke-gcloud-auth-plugin`) to see why, or log in again.',
      cause: error,
    });
  }
  return options.headers;
}
