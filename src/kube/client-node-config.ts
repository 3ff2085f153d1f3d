import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import type { ResolvedKubeConfig } from './config.js';

// For portforward.ts, the one place client-node is still used (its WebSocket port-forward).

/** What authenticates the connection, already resolved by our client (an exec plugin's output included). */
export interface ResolvedCredentials {
  token?: string;
  cert?: string;
  key?: string;
  username?: string;
  password?: string;
}

/**
 * A client-node KubeConfig holding exactly the cluster, user and context our own loader resolved, built from it
 * rather than by client-node reading the files again: so kubectl's merge rules (first name wins, a file listed
 * twice, an unused incomplete entry) hold here too, and client-node never runs an exec plugin or auth provider.
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
        // Only what our client resolved: over http that is nothing (kubectl's rule), and a tokenFile is read by it.
        token: credentials.token,
        certData: credentials.cert ? Buffer.from(credentials.cert).toString('base64') : config.clientCert?.toString('base64'),
        keyData: credentials.key ? Buffer.from(credentials.key).toString('base64') : config.clientKey?.toString('base64'),
        username: credentials.username,
        password: credentials.password,
        impersonateUser: config.impersonate?.user,
      },
    ],
    contexts: [{ name, cluster: name, user: name, namespace: config.namespace }],
    currentContext: name,
  });
  return kc;
}
