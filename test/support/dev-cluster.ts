import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { startLocalControlPlane, type LocalControlPlane, type LocalControlPlaneOptions } from '../../src/dev/index.js';
import { ensureBuilt, runBin, type RunResult } from './bin.js';

/**
 * The local control plane in this process (API emulator, controller, web proxy), a temporary HOME holding its
 * kubeconfig, a client, and the built bin pointed at it: what end-to-end suites drive the CLI against.
 */
export interface DevCluster {
  plane: LocalControlPlane;
  dir: string;
  kubeconfig: string;
  kube: KubeClient;
  /** The environment the CLI runs with (KUBECONFIG, HOME, no SYMPOZIUM_API_KEY), plus `extraEnv`. */
  env(): NodeJS.ProcessEnv;
  cli(args: string[], options?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  stop(): Promise<void>;
}

export async function startDevCluster(prefix: string, options: LocalControlPlaneOptions & { extraEnv?: NodeJS.ProcessEnv } = {}): Promise<DevCluster> {
  ensureBuilt();
  const { extraEnv, ...planeOptions } = options;
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const plane = await startLocalControlPlane(planeOptions);
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, plane.kubeconfigYaml());
  const kube = createKubeClient({ globals: { kubeconfig }, env: {} });
  const env = () => ({ ...process.env, KUBECONFIG: kubeconfig, HOME: dir, SYMPOZIUM_API_KEY: '', ...extraEnv });
  return {
    plane,
    dir,
    kubeconfig,
    kube,
    env,
    cli: (args, runOptions = {}) => runBin(args, { env: env(), ...runOptions }),
    async stop() {
      kube.close();
      await plane.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
