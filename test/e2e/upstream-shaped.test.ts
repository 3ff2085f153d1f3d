import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamCrds } from '../../src/sympozium/releases.js';
import { startBareCluster, type BareCluster } from '../support/bare-cluster.js';

/**
 * instances describe/list against objects shaped exactly as upstream v0.5.8's controllers leave them: status with
 * only phase and activeAgentPods, the server run `<i>-web-endpoint`, the key Secret `<i>-web-proxy-key` and the
 * HTTPRoute `<i>-web-endpoint-web` (agentrun_controller.go, sympoziuminstance_controller.go). No controller runs.
 */
let cluster: BareCluster;
const api = '/apis/sympozium.ai/v1alpha1/namespaces/default';

beforeAll(async () => {
  cluster = await startBareCluster('sympozium-upstream-shaped-', { crds: false });
  for (const crd of upstreamCrds('v0.5.8')) await cluster.kube.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  const { kube } = cluster;
  const instance = (name: string, skills: unknown[]) => ({
    apiVersion: 'sympozium.ai/v1alpha1',
    kind: 'SympoziumInstance',
    metadata: { name },
    spec: { agents: { default: { model: 'gpt-4.1' } }, authRefs: [{ provider: 'openai', secret: `${name}-openai-key` }], skills },
  });
  await kube.create(`${api}/sympoziuminstances`, instance('served', [{ skillPackRef: 'web-endpoint', params: { hostname: 'served.example.com' } }]));
  await kube.mergePatch(`${api}/sympoziuminstances/served/status`, { status: { phase: 'Serving', activeAgentPods: 1 } });
  await kube.create(`${api}/sympoziuminstances`, instance('fresh', []));
  await kube.create(`${api}/agentruns`, {
    apiVersion: 'sympozium.ai/v1alpha1',
    kind: 'AgentRun',
    metadata: { name: 'served-web-endpoint', labels: { 'sympozium.ai/instance': 'served', 'sympozium.ai/component': 'web-endpoint' } },
    spec: { instanceRef: 'served', agentId: 'web-endpoint', sessionKey: 'web-endpoint', task: 'Serve HTTP requests for this instance', mode: 'server', model: { provider: 'openai', model: 'gpt-4.1', authSecretRef: 'served-openai-key' } },
  });
  await kube.mergePatch(`${api}/agentruns/served-web-endpoint/status`, { status: { phase: 'Serving', deploymentName: 'served-web-endpoint-server', serviceName: 'served-web-endpoint-server' } });
  await kube.create('/api/v1/namespaces/default/secrets', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'served-web-proxy-key', labels: { 'sympozium.ai/instance': 'served', 'sympozium.ai/component': 'web-proxy' } },
    data: { 'api-key': Buffer.from('sk-upstream-shaped-0000').toString('base64') },
  });
  await kube.create('/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes', {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'served-web-endpoint-web', labels: { 'sympozium.ai/instance': 'served', 'sympozium.ai/component': 'agent-server' } },
    spec: {
      parentRefs: [{ name: 'sympozium-gateway', namespace: 'sympozium-system' }],
      hostnames: ['served.example.com'],
      rules: [{ backendRefs: [{ name: 'served-web-endpoint-server', port: 8080 }] }],
    },
  });
});
afterAll(async () => cluster?.stop());

describe('instances describe and list read what upstream writes', () => {
  it('describe: the HTTPRoute URL, the web-proxy key Secret, the server run state; no invented phase or conditions', async () => {
    const result = await cluster.cli(['instances', 'describe', 'served']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Web endpoint: +enabled; server run served-web-endpoint: Serving/);
    expect(result.stdout).toMatch(/ {2}URL: +https:\/\/served\.example\.com \(HTTPRoute served-web-endpoint-web \(Gateway sympozium-system\/sympozium-gateway/);
    expect(result.stdout).toMatch(/ {2}Key Secret: +served-web-proxy-key/);
    expect(result.stdout).toContain('none (Sympozium does not write instance conditions)');
    expect(result.stdout).not.toContain('sk-upstream-shaped');
    const fresh = await cluster.cli(['instances', 'describe', 'fresh']);
    expect(fresh.stdout).toMatch(/Phase: +not reported yet \(the controller has not reconciled it\)/);
  });

  it('list -o wide shows the same URL and key Secret', async () => {
    const result = await cluster.cli(['instances', 'list', '-o', 'wide']);
    expect(result.code, result.stderr).toBe(0);
    const served = result.stdout.split('\n').find((line) => line.startsWith('served'))!;
    expect(served).toContain('Serving https://served.example.com');
    expect(served).toContain('served-web-proxy-key');
    expect(served).not.toContain('(not reported)');
  });

  it('describe -o json names the same facts', async () => {
    const result = await cluster.cli(['instances', 'describe', 'served', '-o', 'json']);
    const document = JSON.parse(result.stdout) as { webEndpoint: Record<string, unknown> };
    expect(document.webEndpoint).toMatchObject({ state: 'Serving', serverRun: 'served-web-endpoint', url: 'https://served.example.com', keySecret: 'served-web-proxy-key' });
  });
});
