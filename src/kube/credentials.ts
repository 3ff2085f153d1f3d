import type { ResolvedKubeConfig } from './config.js';
import { CliError } from '../errors.js';
import { clientNodeConfig } from './client-node-config.js';

/**
 * Credentials of a kubeconfig `auth-provider` (oidc, and the removed gcp/azure ones client-node still knows),
 * produced by @kubernetes/client-node. Imported lazily by client.ts, so commands on token, certificate or exec
 * kubeconfigs never load it. Exec plugins are exec-plugin.ts's, never client-node's.
 */
export async function credentialHeaders(config: ResolvedKubeConfig): Promise<Record<string, string>> {
  const { KubeConfig } = await import('@kubernetes/client-node/dist/config.js');
  const kc = clientNodeConfig(KubeConfig, config);
  const options: { headers: Record<string, string> } = { headers: {} };
  const provider = config.authProvider?.name ?? 'auth-provider';
  try {
    await kc.applyToHTTPSOptions(options as never);
  } catch (error) {
    throw authProviderFailure(config, provider, error);
  }
  return options.headers;
}

/** Says which credential failed and why in the user's terms; a refresh that cannot reach the issuer names it. */
function authProviderFailure(config: ResolvedKubeConfig, provider: string, error: unknown): CliError {
  const settings = config.authProvider?.config ?? {};
  const issuer = settings['idp-issuer-url'];
  const detail = describe(error);
  const prefix = `could not get credentials for context "${config.contextName}"`;
  if (provider === 'oidc' && issuer) {
    return new CliError(`${prefix}: the OIDC id-token of user "${config.userName}" has expired and refreshing it at the issuer ${issuer} failed: ${detail}`, {
      hint: `Check that ${issuer} is reachable from here (VPN?), or log in again with your OIDC login tool to get a fresh id-token.`,
      cause: error,
    });
  }
  return new CliError(`${prefix}: the ${provider} auth provider of user "${config.userName}" failed: ${detail}`, {
    hint: 'Log in again with the tool that wrote this kubeconfig user, or switch it to an exec credential plugin.',
    cause: error,
  });
}

/** The root cause of a fetch failure (ECONNREFUSED, ENOTFOUND), not only undici's "fetch failed". */
function describe(error: unknown): string {
  const messages: string[] = [];
  for (let current = error as { message?: string; code?: string; cause?: unknown } | undefined; current && messages.length < 4; current = current.cause as typeof current) {
    const text = current.code && !current.message?.includes(current.code) ? `${current.message} (${current.code})` : current.message;
    if (text && !messages.includes(text)) messages.push(text);
  }
  // A token never reaches these messages: client-node's errors name the step and the URL, not the token.
  return messages.join(': ') || String(error);
}
