import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { startApiServer, type ApiServer } from '@sympozium/kube-emulator';
import { upstreamCrds } from '../../src/sympozium/releases.js';
import { ensureBuilt, runBin, type RunResult } from './bin.js';

/**
 * The bare API emulator with no controller, a temporary HOME holding its kubeconfig, a client, and the built
 * bin pointed at it: what tests use to lay out objects exactly as a controller would have left them.
 */
export interface BareCluster {
  server: ApiServer;
  dir: string;
  kubeconfig: string;
  kube: KubeClient;
  cli(args: string[]): Promise<RunResult>;
  stop(): Promise<void>;
}

export async function startBareCluster(prefix: string, options: { crds?: boolean } = {}): Promise<BareCluster> {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const server = await startApiServer();
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, server.kubeconfigYaml());
  const kube = createKubeClient({ globals: { kubeconfig }, env: {} });
  if (options.crds !== false) {
    for (const crd of upstreamCrds('v0.5.8')) await kube.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  }
  return {
    server,
    dir,
    kubeconfig,
    kube,
    cli: (args) => runBin(args, { env: { KUBECONFIG: kubeconfig, HOME: dir, SYMPOZIUM_API_KEY: '' } }),
    async stop() {
      kube.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
