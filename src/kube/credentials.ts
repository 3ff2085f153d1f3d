import type { ResolvedKubeConfig } from './config.js';
import { CliError } from '../errors.js';

/**
 * Credentials of a kubeconfig `auth-provider`. kubectl v1.26+ keeps only oidc (oidc.ts); gcp and azure were
 * removed in favour of exec plugins, and kubectl says so: so do we, with its words
 * (k8s.io/client-go/plugin/pkg/client/auth/{gcp,azure}/*_stub.go). Imported lazily by client.ts.
 */
const removed: Record<string, { plugin: string; see: string }> = {
  gcp: { plugin: 'gke-gcloud-auth-plugin', see: 'https://cloud.google.com/blog/products/containers-kubernetes/kubectl-auth-changes-in-gke' },
  azure: { plugin: 'kubelogin', see: 'https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins' },
};

export async function credentialHeaders(config: ResolvedKubeConfig): Promise<Record<string, string>> {
  const name = config.authProvider?.name ?? '';
  if (name === 'oidc') {
    const { oidcToken } = await import('./oidc.js');
    return { Authorization: `Bearer ${await oidcToken(config)}` };
  }
  const prefix = `could not get credentials for context "${config.contextName}"`;
  const gone = removed[name];
  if (gone) {
    throw new CliError(`${prefix}: The ${name} auth plugin has been removed. Please use the "${gone.plugin}" kubectl/client-go credential plugin instead.`, {
      hint: `Install ${gone.plugin} and switch user "${config.userName}" to it (see ${gone.see}); kubectl refuses this kubeconfig too.`,
    });
  }
  throw new CliError(`${prefix}: no Auth Provider found for name "${name}"`, {
    hint: `Fix the auth-provider of user "${config.userName}" in the kubeconfig (kubectl knows only oidc), or use an exec credential plugin.`,
  });
}
