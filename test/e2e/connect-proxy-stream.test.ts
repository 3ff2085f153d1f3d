import http from 'node:http';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoPrefix } from '../../src/dev/index.js';
import { binPath, runBin } from '../support/bin.js';
import { startDevCluster, type DevCluster } from '../support/dev-cluster.js';
import { startHttpProxy, startSocksProxy, type TestProxy } from '../support/proxy-servers.js';
import { follow, until } from '../support/follow.js';

/**
 * The long-lived connections through a proxy: a watch (`instances list -w`) and port-forward's WebSocket
 * (`chat` without --url), against `sympozium dev`, beside kubectl's own watch and port-forward. The kubeconfig
 * names the server `kube.example.test`, which only the test proxies resolve: a connection that bypassed the
 * proxy could not reach the cluster at all, so success proves the path.
 */
const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((path) => existsSync(path));
if (!kubectl) console.log('connect-proxy-stream: kubectl not found, skipping the kubectl side of these cases');

let cluster: DevCluster;
let proxy: TestProxy;
let socks: TestProxy;

const proxiedKubeconfig = (proxyUrl: string) => {
  const doc = parse(cluster.plane.kubeconfigYaml()) as { clusters: { cluster: Record<string, unknown> }[] };
  const server = new URL(String(doc.clusters[0]!.cluster.server));
  doc.clusters[0]!.cluster.server = `https://kube.example.test:${server.port}`;
  doc.clusters[0]!.cluster['proxy-url'] = proxyUrl;
  const path = join(cluster.dir, `kubeconfig-${new URL(proxyUrl).protocol.slice(0, -1)}`);
  writeFileSync(path, stringify(doc));
  return path;
};

const env = (kubeconfig: string): NodeJS.ProcessEnv => {
  const base = { ...process.env };
  for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']) delete base[name];
  return { ...base, KUBECONFIG: kubeconfig, HOME: cluster.dir, SYMPOZIUM_API_KEY: '', CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' };
};

const instance = (name: string) => ({
  apiVersion: 'sympozium.ai/v1alpha1',
  kind: 'SympoziumInstance',
  metadata: { name, namespace: 'default' },
  spec: { agents: { default: { model: 'gpt-4.1' } }, skills: [{ skillPackRef: 'web-endpoint', params: { rate_limit_rpm: '6000', rate_limit_burst: '100' } }] },
});
const instances = '/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances';

beforeAll(async () => {
  [cluster, proxy, socks] = await Promise.all([startDevCluster('sympozium-connect-stream-'), startHttpProxy(), startSocksProxy()]);
  await cluster.kube.create(instances, instance('demo'));
  // Serving: a Running web-endpoint pod and its key Secret.
  let ready = false;
  for (let round = 0; round < 400 && !ready; round++) {
    const pods = await cluster.kube.list<{ status?: { phase?: string } }>('/api/v1/namespaces/default/pods', { labelSelector: 'sympozium.ai/instance=demo,sympozium.ai/component=agent-server' });
    const secret = await cluster.kube.getOrUndefined('/api/v1/namespaces/default/secrets/demo-web-proxy-key');
    ready = pods.items.some((pod) => pod.status?.phase === 'Running') && Boolean(secret);
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (!ready) throw new Error('demo never served');
}, 60_000);

afterAll(async () => {
  await Promise.all([proxy?.close(), socks?.close()]);
  await cluster?.stop();
});

describe('through a proxy: watches and port-forward', () => {
  it.skipIf(!kubectl)('instances list -w sees a change through the proxy, as kubectl get -w does', async () => {
    const kubeconfig = proxiedKubeconfig(proxy.url);
    const ours = follow(process.execPath, [binPath, 'instances', 'list', '-w', '-o', 'name'], env(kubeconfig));
    const theirs = follow(kubectl!, ['get', 'sympoziuminstances', '-w', '-o', 'name'], env(kubeconfig));
    try {
      await until(() => ours.lines().length >= 1 && theirs.lines().length >= 1, 'the listed instance', () => ours.stderr() + theirs.stderr());
      await cluster.kube.create(instances, { ...instance('watched'), spec: { agents: { default: { model: 'gpt-4.1' } } } });
      await until(() => ours.lines().length >= 2 && theirs.lines().length >= 2, 'the new instance on both sides', () => ours.stderr() + theirs.stderr());
      expect(ours.lines().slice(0, 2)).toEqual(theirs.lines().slice(0, 2));
      expect(ours.lines()[1]).toBe('sympoziuminstance.sympozium.ai/watched');
      expect(proxy.records.filter((record) => record.method === 'CONNECT' && record.target.startsWith('kube.example.test:')).length).toBeGreaterThan(0);
    } finally {
      expect(await ours.stop()).toBe(130);
      await theirs.stop();
      await cluster.kube.delete(`${instances}/watched`).catch(() => undefined);
    }
  });

  for (const kind of ['http', 'socks5'] as const) {
    it(`chat without --url: its port-forward WebSocket goes through the ${kind} proxy`, async () => {
      const via = kind === 'http' ? proxy : socks;
      via.records.length = 0;
      const result = await runBin(['chat', 'demo', 'through the proxy', '--no-stream', '--verbose'], { env: env(proxiedKubeconfig(via.url)), timeoutMs: 30_000 });
      expect(result.stderr).not.toContain('error:');
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${echoPrefix} through the proxy\n`);
      expect(result.stderr).toMatch(/port-forward to service demo-web-endpoint-server/);
      expect(via.records.every((record) => record.target.startsWith('kube.example.test:'))).toBe(true);
    });
  }

  it.skipIf(!kubectl)('kubectl port-forward through the same proxy reaches the same endpoint', async () => {
    const forward = follow(kubectl!, ['port-forward', 'svc/demo-web-endpoint-server', '0:8080'], env(proxiedKubeconfig(proxy.url)));
    try {
      await until(() => /127\.0\.0\.1:\d+/.test(forward.output()), 'kubectl port-forward to listen', () => forward.stderr());
      const port = /127\.0\.0\.1:(\d+)/.exec(forward.output())![1];
      const status = await new Promise<number>((resolve, reject) =>
        http.get(`http://127.0.0.1:${port}/v1/models`, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        }).on('error', reject),
      );
      // Without a key the endpoint answers 401: an answer at all means the tunnel through the proxy works.
      expect(status).toBe(401);
    } finally {
      await forward.stop();
    }
  });
});
