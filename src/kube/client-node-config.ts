import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import type { ResolvedKubeConfig } from './config.js';

// Shared by credentials.ts (auth providers) and portforward.ts, the two places client-node is used; its own module
// so that neither imports the other.

/** What authenticates the connection, already resolved by our client (an exec plugin's output included). */
export interface ResolvedCredentials {
  token?: string;
  cert?: string;
  key?: string;
}

/**
 * A client-node KubeConfig holding exactly the cluster, user and context our own loader resolved, built from it
 * rather than by client-node reading the files again: so kubectl's merge rules (first name wins, a file listed
 * twice, an unused incomplete entry) hold here too, and client-node never runs an exec plugin of its own.
 */
export function clientNodeConfig(KubeConfigClass: typeof KubeConfig, config: ResolvedKubeConfig, credentials: ResolvedCredentials = {}): KubeConfig {
  const kc = new KubeConfigClass();
  if (config.inCluster) {
    kc.loadFromCluster();
    return kc;
  }
  const name = 'sympozium';
  kc.loadFromOptions({
    clusters: [
      {
        name,
        server: config.server,
        caData: config.ca?.toString('base64'),
        skipTLSVerify: config.insecureSkipTlsVerify,
        tlsServerName: config.tlsServerName,
      },
    ],
    users: [
      {
        name,
        token: credentials.token ?? config.token,
        certData: credentials.cert ? Buffer.from(credentials.cert).toString('base64') : config.clientCert?.toString('base64'),
        keyData: credentials.key ? Buffer.from(credentials.key).toString('base64') : config.clientKey?.toString('base64'),
        username: config.username,
        password: config.password,
        impersonateUser: config.impersonate?.user,
        // Only an auth provider is still client-node's to run (credentials.ts); a copy, as it rewrites the config.
        authProvider: config.authProvider && !credentials.token ? structuredClone(config.authProvider) : undefined,
      },
    ],
    contexts: [{ name, cluster: name, user: name, namespace: config.namespace }],
    currentContext: name,
  });
  return kc;
}
