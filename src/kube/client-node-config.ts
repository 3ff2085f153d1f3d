import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import type { ResolvedKubeConfig } from './config.js';

// Shared by credentials.ts (exec plugins, auth providers) and portforward.ts, the two places client-node is used;
// its own module so that neither imports the other.

/** A client-node KubeConfig for the same files, context and credentials as our own client. */
export function clientNodeConfig(KubeConfigClass: typeof KubeConfig, config: ResolvedKubeConfig): KubeConfig {
  const kc = new KubeConfigClass();
  if (config.inCluster) {
    kc.loadFromCluster();
    return kc;
  }
  // Like kubectl, the first file that defines a name wins: merge later files without overriding earlier ones.
  // Entries the context does not use may be incomplete (kubectl ignores them): filter them rather than throw.
  const lenient = { onInvalidEntry: 'filter' } as const;
  config.files.forEach((file, index) => {
    if (index === 0) return kc.loadFromFile(file, lenient);
    const next = new KubeConfigClass();
    next.loadFromFile(file, lenient);
    // client-node's mergeConfig throws on a duplicate name, where kubectl keeps the first; do kubectl's.
    for (const cluster of next.clusters) if (!kc.getCluster(cluster.name)) kc.addCluster(cluster);
    for (const user of next.users) if (!kc.getUser(user.name)) kc.addUser(user);
    for (const context of next.contexts) if (!kc.getContextObject(context.name)) kc.addContext(context);
  });
  kc.setCurrentContext(config.contextName);
  return kc;
}
