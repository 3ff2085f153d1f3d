import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamCrds } from '../../src/sympozium/releases.js';
import { runBin } from '../support/bin.js';
import { startBareCluster, type BareCluster } from '../support/bare-cluster.js';

/** `sympozium version` against the bare emulator: before Sympozium is installed, then with its CRDs and a controller. */

let cluster: BareCluster;
const cli = (args: string[]) => cluster.cli(args);

beforeAll(async () => {
  // Without the CRDs first: Sympozium is installed half-way through the second test.
  cluster = await startBareCluster('sympozium-version-', { crds: false });
});

afterAll(async () => {
  await cluster?.stop();
});

describe('sympozium version', () => {
  it('--client needs no cluster; without Sympozium it says so', async () => {
    const client = await runBin(['version', '--client', '-o', 'json'], { env: { KUBECONFIG: join(cluster.dir, 'missing'), HOME: cluster.dir } });
    expect(client.code, client.stderr).toBe(0);
    expect(JSON.parse(client.stdout)).toMatchObject({ client: { version: expect.stringMatching(/^\d+\.\d+\.\d+/), node: process.version } });
    const bare = await cli(['version']);
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stdout).toMatch(/API server:\s+v1\.32\.\d+/);
    expect(bare.stdout).toContain('Sympozium:   not installed');
  });

  it('names the release from the controller image and the kinds served', async () => {
    for (const crd of upstreamCrds('v0.5.8')) await cluster.kube.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    const noController = JSON.parse((await cli(['version', '-o', 'json'])).stdout);
    expect(noController.sympozium.kinds).toContain('SympoziumInstance');
    expect(noController.sympozium.release).toBeUndefined();
    await cluster.kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sympozium-system' } });
    await cluster.kube.create('/apis/apps/v1/namespaces/sympozium-system/deployments', {
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
