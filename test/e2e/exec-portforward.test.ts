import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoPrefix } from '../../src/dev/index.js';
import { runBin } from '../support/bin.js';
import { startDevCluster, type DevCluster } from '../support/dev-cluster.js';
import { takeRuns, writePlugin } from '../support/exec-fixtures.js';

/**
 * An exec-plugin kubeconfig for the whole path a user takes to chat: plain requests, the watch of the run and the
 * port-forward WebSocket (client-node's) all carry the plugin's credential, and the plugin runs once, ours, not
 * client-node's.
 */
let cluster: DevCluster;
let kubeconfig: string;
let log: string;

describe('an exec plugin through port-forward', () => {
  beforeAll(async () => {
    cluster = await startDevCluster('sympozium-exec-pf-');
    const config = load(readFileSync(cluster.kubeconfig, 'utf8')) as { users: { user: Record<string, unknown> }[] };
    const user = config.users[0]!.user;
    const token = String(user.token);
    delete user.token;
    log = join(cluster.dir, 'plugin.log');
    user.exec = {
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: writePlugin(join(cluster.dir, 'plugin.js')),
      env: [
        { name: 'PLUGIN_LOG', value: log },
        { name: 'PLUGIN_TOKEN', value: token },
      ],
    };
    kubeconfig = join(cluster.dir, 'kubeconfig-exec');
    writeFileSync(kubeconfig, dump(config), { mode: 0o600 });
    await cluster.kube.create('/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances', {
      apiVersion: 'sympozium.ai/v1alpha1',
      kind: 'SympoziumInstance',
      metadata: { name: 'demo', namespace: 'default' },
      spec: { agents: { default: { model: 'gpt-4.1' } }, skills: [{ skillPackRef: 'web-endpoint', params: { rate_limit_rpm: '6000', rate_limit_burst: '100' } }] },
    });
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 25))) {
      const secret = await cluster.kube.getOrUndefined('/api/v1/namespaces/default/secrets/demo-web-proxy-key');
      const pods = await cluster.kube.list<{ status?: { phase?: string } }>('/api/v1/namespaces/default/pods', { labelSelector: 'sympozium.ai/instance=demo,sympozium.ai/component=agent-server' });
      if (secret && pods.items.some((pod) => pod.status?.phase === 'Running')) break;
    }
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('chats through the port-forward with the plugin\'s token, running the plugin once', async () => {
    takeRuns(log);
    const result = await runBin(['chat', 'demo', 'over exec', '--no-stream', '--verbose'], { env: { ...cluster.env(), KUBECONFIG: kubeconfig } });
    expect(result.stderr).not.toContain('error:');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${echoPrefix} over exec\n`);
    expect(result.stderr).toMatch(/port-forward to service demo-web-endpoint-server/);
    expect(takeRuns(log)).toHaveLength(1);
  });

  it('the plane checks the plugin\'s token (its port-forward upgrade too): a wrong one is refused', async () => {
    const config = load(readFileSync(kubeconfig, 'utf8')) as { users: { user: { exec: { env: { name: string; value: string }[] } } }[] };
    config.users[0]!.user.exec.env[1]!.value = 'not-the-token';
    const wrong = join(cluster.dir, 'kubeconfig-wrong');
    writeFileSync(wrong, dump(config), { mode: 0o600 });
    const result = await runBin(['chat', 'demo', 'over exec', '--no-stream'], { env: { ...cluster.env(), KUBECONFIG: wrong } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/401|[Uu]nauthori[sz]ed|credentials/);
  });
});
