import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamCrds } from '../../src/sympozium/releases.js';
import { runBin } from '../support/bin.js';
import { startBareCluster, type BareCluster } from '../support/bare-cluster.js';

/**
 * v0.10's proxy reuses an unfinished run with the same request hash (internal/webproxy/openai.go,
 * findRecentWebRun) and then waits for that run's completion event. A retry that lands on the run after the event
 * has fired (the agent answered; the Job has not ended, so the run is not Succeeded yet) waits for nothing until
 * the proxy's 10-minute timeout. Here the endpoint plays exactly that: the first request creates the run and is cut
 * (502), the retry finds the run, which then Succeeds with its result, and is never answered. chat must answer
 * from the run's status.result once the run is Succeeded, naming it.
 */

let cluster: BareCluster;
let endpoint: http.Server;
let url = '';
const requests: { idempotencyKey?: string }[] = [];
const key = 'sk-reuse-test-key-0123456789';
const runPath = '/apis/sympozium.ai/v1alpha1/namespaces/default/agentruns';

beforeAll(async () => {
  cluster = await startBareCluster('sympozium-reuse-', { crds: false });
  for (const crd of upstreamCrds('v0.10.46')) await cluster.kube.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  // The controller as upstream's chart installs it: its image tag is how the CLI knows the release (v0.10.17 and
  // later honour Idempotency-Key).
  await cluster.kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sympozium-system' } });
  await cluster.kube.create('/apis/apps/v1/namespaces/sympozium-system/deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'sympozium-controller-manager' },
    spec: {
      selector: { matchLabels: { 'control-plane': 'controller-manager' } },
      template: { metadata: { labels: { 'control-plane': 'controller-manager' } }, spec: { containers: [{ name: 'manager', image: 'ghcr.io/sympozium-ai/sympozium/controller:v0.10.46' }] } },
    },
  });
  await cluster.kube.create('/apis/sympozium.ai/v1alpha1/namespaces/default/agents', {
    apiVersion: 'sympozium.ai/v1alpha1',
    kind: 'Agent',
    metadata: { name: 'reuse' },
    spec: { agents: { default: { model: 'gpt-4.1' } }, skills: [{ skillPackRef: 'web-endpoint' }] },
  });
  let runName = '';
  endpoint = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      requests.push({ idempotencyKey: req.headers['idempotency-key'] as string | undefined });
      const task = (JSON.parse(body) as { messages: { content: string }[] }).messages.at(-1)!.content;
      void (async () => {
        if (!runName) {
          // The first request: the run is created as the proxy creates it, then the connection is cut.
          const created = await cluster.kube.create<{ metadata: { name: string } }>(runPath, {
            apiVersion: 'sympozium.ai/v1alpha1',
            kind: 'AgentRun',
            metadata: { generateName: 'reuse-web-', labels: { 'sympozium.ai/instance': 'reuse', 'sympozium.ai/source': 'web-proxy', 'sympozium.ai/request-hash': 'abc' } },
            spec: { agentRef: 'reuse', agentId: 'primary', sessionKey: 'web-reuse-1', task, model: { provider: 'openai', model: 'gpt-4.1', authSecretRef: '' } },
          });
          runName = created.metadata.name;
          await cluster.kube.mergePatch(`${runPath}/${runName}/status`, { status: { phase: 'Running', startedAt: new Date().toISOString() } });
          res.writeHead(502, { 'content-type': 'text/plain' }).end('upstream connect error');
          return;
        }
        // The retry reuses the run; its completion event has passed, so this request is never answered, while
        // the run itself ends Succeeded with its result a moment later.
        setTimeout(() => {
          void cluster.kube.mergePatch(`${runPath}/${runName}/status`, {
            status: { phase: 'Succeeded', completedAt: new Date().toISOString(), result: `the answer to: ${task}`, tokenUsage: { inputTokens: 3, outputTokens: 5, totalTokens: 8, toolCalls: 0, durationMs: 900 } },
          }).catch((error: Error) => console.error(`status patch failed: ${error.message}`));
        }, 300);
      })();
    });
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
});
afterAll(async () => {
  endpoint?.closeAllConnections();
  await new Promise((resolve) => endpoint?.close(resolve));
  await cluster?.stop();
});

describe('chat on a reused run whose completion event has passed (v0.10)', () => {
  it('answers from the Succeeded run instead of waiting for the proxy', async () => {
    const result = await runBin(['chat', 'reuse', 'what is six times seven?', '--no-stream', '--url', url, '--key', key], {
      env: { KUBECONFIG: cluster.kubeconfig, HOME: cluster.dir, SYMPOZIUM_API_KEY: '' },
      timeoutMs: 45_000,
    });
    expect(result.code, `${result.stderr}\nrequests: ${JSON.stringify(requests)}`).toBe(0);
    expect(result.stdout).toBe('the answer to: what is six times seven?\n');
    // One retry, with the same Idempotency-Key (the release honours it), and no third request.
    expect(requests).toHaveLength(2);
    expect(requests[0]!.idempotencyKey).toBeTruthy();
    expect(requests[1]!.idempotencyKey).toBe(requests[0]!.idempotencyKey);
    expect(result.stderr).toMatch(/after run reuse-web-\S+ Succeeded; the answer is the run's status\.result/);
    expect(result.stderr).toMatch(/run reuse-web-\S+ .*Succeeded/);
    expect(result.stderr).not.toContain(key);
  }, 60_000);
});
