import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KubeClient } from '../../src/kube/client.js';
import type { ApiServer } from '@sympozium/kube-emulator';
import { runBin } from '../support/bin.js';
import { startBareCluster, type BareCluster } from '../support/bare-cluster.js';

/**
 * Waits that end without the thing they waited for, against the bare API emulator with no controller (or the
 * test standing in for one that misbehaves): each must name the stage that did not come and why, bounded by
 * --timeout; and apply failing half-way must say what was applied and what was not.
 */

const api = '/apis/sympozium.ai/v1alpha1/namespaces/default';
let server: ApiServer;
let dir: string;
let kubeconfig: string;
let kube: KubeClient;
const cli = (args: string[]) => runBin(args, { env: { KUBECONFIG: kubeconfig, HOME: dir, SYMPOZIUM_API_KEY: '' } });

const instance = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'sympozium.ai/v1alpha1',
  kind: 'SympoziumInstance',
  metadata: { name, ...extra },
  spec: { agents: { default: { model: 'gpt-4.1' } } },
});
const serverRun = (instanceName: string) => ({
  apiVersion: 'sympozium.ai/v1alpha1',
  kind: 'AgentRun',
  metadata: { name: `${instanceName}-web-endpoint`, labels: { 'sympozium.ai/instance': instanceName, 'sympozium.ai/component': 'web-endpoint' } },
  spec: { instanceRef: instanceName, agentId: 'primary', sessionKey: 'web', task: 'serve', mode: 'server', model: { provider: 'openai', model: 'gpt-4.1', authSecretRef: '' } },
});

let cluster: BareCluster;

beforeAll(async () => {
  cluster = await startBareCluster('sympozium-cluster-waits-');
  ({ server, dir, kubeconfig, kube } = cluster);
});

afterAll(async () => {
  await cluster?.stop();
});

beforeEach(() => server.faults.clear());

describe('enable web-endpoint names the stage that did not come', () => {
  it('no controller: the server run never appears', async () => {
    await kube.create(`${api}/sympoziuminstances`, instance('idle'));
    const result = await cli(['enable', 'web-endpoint', 'idle', '--timeout', '1s']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the server run idle-web-endpoint in phase Serving did not come (the controller has not created it)');
    expect(result.stderr).toContain('sympozium doctor');
  });

  it("a failed server run: the run's own error", async () => {
    await kube.create(`${api}/sympoziuminstances`, instance('broken'));
    await kube.create(`${api}/agentruns`, serverRun('broken'));
    await kube.mergePatch(`${api}/agentruns/broken-web-endpoint/status`, { status: { phase: 'Failed', error: 'image pull failed: ghcr.io/x/agent:v9' } });
    const result = await cli(['enable', 'web-endpoint', 'broken', '--timeout', '5s']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the server run broken-web-endpoint of broken failed: image pull failed: ghcr.io/x/agent:v9');
    expect(result.stderr).toContain('sympozium enable web-endpoint broken --recreate');
  });

  it("Serving but no ready replica: the Deployment's condition", async () => {
    await kube.create(`${api}/sympoziuminstances`, instance('unready'));
    await kube.create(`${api}/agentruns`, serverRun('unready'));
    await kube.mergePatch(`${api}/agentruns/unready-web-endpoint/status`, { status: { phase: 'Serving', deploymentName: 'unready-web-endpoint-server' } });
    await kube.create('/apis/apps/v1/namespaces/default/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'unready-web-endpoint-server' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'unready' } }, template: { metadata: { labels: { app: 'unready' } }, spec: { containers: [{ name: 'proxy', image: 'proxy' }] } } },
    });
    await kube.mergePatch('/apis/apps/v1/namespaces/default/deployments/unready-web-endpoint-server/status', {
      status: { replicas: 1, readyReplicas: 0, conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }] },
    });
    const result = await cli(['enable', 'web-endpoint', 'unready', '--timeout', '1s']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Deployment unready-web-endpoint-server with a ready replica did not come (0/1 ready; Available=False (MinimumReplicasUnavailable');
  });
});

describe('disable web-endpoint with a controller that does not tear down (upstream)', () => {
  it('says the endpoint is still running and how to remove it, instead of hanging', async () => {
    await kube.create(`${api}/sympoziuminstances`, { ...instance('kept'), spec: { agents: { default: { model: 'gpt-4.1' } }, skills: [{ skillPackRef: 'memory' }, { skillPackRef: 'web-endpoint' }] } });
    await kube.create(`${api}/agentruns`, serverRun('kept'));
    const result = await cli(['disable', 'web-endpoint', 'kept', '--timeout', '1s']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('the controller left the server run running');
    expect(result.stderr).toContain('kubectl delete agentrun kept-web-endpoint -n default');
    const skills = (await kube.get<{ spec: { skills: unknown[] } }>(`${api}/sympoziuminstances/kept`)).spec.skills;
    expect(skills).toEqual([{ skillPackRef: 'memory' }]);
  });
});

describe('instances delete waits for finalizers', () => {
  it('reports the finalizers still holding it at the timeout, and returns once they are gone', async () => {
    await kube.create(`${api}/sympoziuminstances`, instance('held', { finalizers: ['sympozium.ai/cleanup'] }));
    const stuck = await cli(['instances', 'delete', 'held', '--timeout', '1s']);
    expect(stuck.code).toBe(1);
    expect(stuck.stderr).toContain('instance held is still terminating after 1.0s; finalizers left: sympozium.ai/cleanup');
    const seen = server.requestLog.length;
    const pending = cli(['instances', 'delete', 'held', '--timeout', '20s']);
    // Remove the finalizer only once the command watches (a slow start must not find it already gone).
    const watching = () => server.requestLog.slice(seen).some((entry) => entry.query.includes('watch=true') && entry.query.includes('held'));
    for (let waited = 0; !watching() && waited < 15_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    await kube.mergePatch(`${api}/sympoziuminstances/held`, { metadata: { finalizers: null } });
    const done = await pending;
    expect(done.code).toBe(0);
    expect(done.stdout).toBe('sympoziuminstance/held deleted\n');
  });

  it('--no-wait returns at once', async () => {
    await kube.create(`${api}/sympoziuminstances`, instance('quick', { finalizers: ['sympozium.ai/cleanup'] }));
    const result = await cli(['instances', 'delete', 'quick', '--no-wait']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('sympoziuminstance/quick deletion requested\n');
  });
});

describe('apply', () => {
  const three = (name: string) => `apiVersion: sympozium.ai/v1alpha1
kind: AgentRun
metadata:
  name: ${name}-first-run
spec:
  instanceRef: ${name}
  agentId: primary
  sessionKey: s
  task: hello
  model: {provider: openai, model: gpt-4.1, authSecretRef: ${name}-openai-key}
---
apiVersion: sympozium.ai/v1alpha1
kind: SympoziumInstance
metadata:
  name: ${name}
spec:
  agents:
    default:
      model: gpt-4.1
  authRefs:
    - provider: openai
      secret: ${name}-openai-key
---
apiVersion: v1
kind: Secret
metadata:
  name: ${name}-openai-key
stringData:
  OPENAI_API_KEY: sk-test
`;

  it('a failure half-way (after the dry run passed) names what was applied, what failed, what was never sent, and the undo', async () => {
    const file = join(dir, 'halfway.yaml');
    writeFileSync(file, three('halfway'));
    // Only the real write fails: the server-side dry run that comes first passes, as in a race.
    server.faults.add({ method: 'PATCH', path: `${api}/sympoziuminstances/halfway`, dryRun: false, respond: { status: 500, message: 'etcdserver: leader changed' } });
    const result = await cli(['apply', '-f', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('secret/halfway-openai-key created\n');
    expect(result.stderr).toContain('applied: secret/halfway-openai-key; failed: sympoziuminstance.sympozium.ai/halfway; not applied: agentrun.sympozium.ai/halfway-first-run');
    expect(result.stderr).toContain('To undo what this apply created: kubectl delete -n default secret/halfway-openai-key');
    expect(await kube.getOrUndefined(`${api}/agentruns/halfway-first-run`)).toBeUndefined();
    // The same apply again finishes the job; what was applied comes back unchanged.
    const again = await cli(['apply', '-f', file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('secret/halfway-openai-key unchanged\nsympoziuminstance.sympozium.ai/halfway created\nagentrun.sympozium.ai/halfway-first-run created\n');
  });

  it('a rejection only the server can see (an immutable Secret) stops the whole batch before any write', async () => {
    await kube.create('/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'locked-openai-key' }, immutable: true, stringData: { OPENAI_API_KEY: 'sk-old' } });
    const file = join(dir, 'locked.yaml');
    writeFileSync(file, three('locked').replace('OPENAI_API_KEY: sk-test', 'OPENAI_API_KEY: sk-new\nimmutable: true'));
    const result = await cli(['apply', '-f', file]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('secret/locked-openai-key');
    expect(result.stderr).toContain('field is immutable');
    expect(result.stderr).toContain('the cluster refused 1 of 3 documents in a server-side dry run: nothing was applied');
    expect(await kube.getOrUndefined(`${api}/sympoziuminstances/locked`)).toBeUndefined();
    expect(await kube.getOrUndefined(`${api}/agentruns/locked-first-run`)).toBeUndefined();
  });

  it('--wait without a controller times out naming the instances not reconciled', async () => {
    const file = join(dir, 'waiting.yaml');
    writeFileSync(file, three('waiting'));
    const result = await cli(['apply', '-f', file, '--wait', '--timeout', '1s']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the controller has not reconciled waiting after 1.0s (no status.phase yet)');
    expect(result.stderr).toContain('sympozium doctor');
  });

  it("never applies init's placeholder Secret, and says how to create the real one", async () => {
    const file = join(dir, 'placeholder.yaml');
    writeFileSync(
      file,
      three('ph').replace('metadata:\n  name: ph-openai-key\n', 'metadata:\n  name: ph-openai-key\n  annotations:\n    sympozium.ai/placeholder: "true"\n'),
    );
    const result = await cli(['apply', '-f', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('secret/');
    expect(result.stderr).toContain('not applying secret/ph-openai-key');
    expect(await kube.getOrUndefined('/api/v1/namespaces/default/secrets/ph-openai-key')).toBeUndefined();
  });

  it('a document whose namespace contradicts -n is refused before anything is sent (exit 2)', async () => {
    const file = join(dir, 'elsewhere.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: elsewhere\n  namespace: team-a\ndata:\n  a: b\n');
    const result = await cli(['-n', 'default', 'apply', '-f', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/elsewhere\.yaml:5:\d+/);
    expect(result.stderr).toContain('the document says namespace "team-a" but -n says "default"');
  });

  it('-o json lists every object with its outcome', async () => {
    const file = join(dir, 'json.yaml');
    writeFileSync(file, three('json'));
    const result = await cli(['apply', '-f', file, '-o', 'json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).items.map((item: { kind: string; outcome: string }) => `${item.kind}:${item.outcome}`)).toEqual([
      'Secret:created',
      'SympoziumInstance:created',
      'AgentRun:created',
    ]);
  });
});

describe("runs list finds an instance's runs by label, else by spec.instanceRef", () => {
  it('includes a run that only names its instance in the spec', async () => {
    const { metadata: _metadata, ...rest } = serverRun('labelless');
    await kube.create(`${api}/agentruns`, { ...rest, metadata: { name: 'labelless-run' } });
    const result = await cli(['runs', 'list', '--instance', 'labelless', '-o', 'name']);
    expect(result.stdout).toBe('agentrun.sympozium.ai/labelless-run\n');
  });
});
