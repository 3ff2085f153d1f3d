import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { startApiServer, type ApiServer } from '../../src/local/apiserver/index.js';
import { sympoziumCrds } from '../../src/sympozium/crds.js';
import { ensureBuilt, runBin } from '../support/bin.js';

/** `sympozium version` against the bare emulator: before Sympozium is installed, then with its CRDs and a controller. */

let server: ApiServer;
let dir: string;
let kubeconfig: string;
let kube: KubeClient;
const cli = (args: string[]) => runBin(args, { env: { KUBECONFIG: kubeconfig, HOME: dir } });

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sympozium-version-'));
  server = await startApiServer();
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, server.kubeconfigYaml());
  kube = createKubeClient({ globals: { kubeconfig }, env: {} });
});

afterAll(async () => {
  kube?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('sympozium version', () => {
  it('--client needs no cluster; without Sympozium it says so', async () => {
    const client = await runBin(['version', '--client', '-o', 'json'], { env: { KUBECONFIG: join(dir, 'missing'), HOME: dir } });
    expect(client.code, client.stderr).toBe(0);
    expect(JSON.parse(client.stdout)).toMatchObject({ client: { version: expect.stringMatching(/^\d+\.\d+\.\d+/), node: process.version } });
    const bare = await cli(['version']);
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stdout).toMatch(/API server:\s+v1\.32\.\d+/);
    expect(bare.stdout).toContain('Sympozium:   not installed');
  });

  it('names the release from the controller image and the kinds served', async () => {
    for (const crd of sympoziumCrds()) await kube.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    const noController = JSON.parse((await cli(['version', '-o', 'json'])).stdout);
    expect(noController.sympozium.kinds).toContain('SympoziumInstance');
    expect(noController.sympozium.release).toBeUndefined();
    await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sympozium-system' } });
    await kube.create('/apis/apps/v1/namespaces/sympozium-system/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'sympozium-controller-manager' },
      spec: {
        selector: { matchLabels: { app: 'c' } },
        template: { metadata: { labels: { app: 'c' } }, spec: { containers: [{ name: 'manager', image: 'ghcr.io/sympozium-ai/sympozium/controller:v0.5.8' }] } },
      },
    });
    const table = await cli(['version']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('Sympozium:   v0.5.8 (sympozium-system/sympozium-controller-manager, ghcr.io/sympozium-ai/sympozium/controller:v0.5.8)');
    expect(table.stdout).toMatch(/Kinds:\s+.*AgentRun.*SympoziumInstance/);
  });
});
