import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { echoPrefix } from '../../src/dev/index.js';
import { instanceManifest, paths, recordPhases, startPlane, waitFor, type Obj } from './helpers.js';

/**
 * The whole lifecycle through the Kubernetes API only, as a client sees it: instance applied -> Running; skill
 * added -> server run, Deployment, Service, pod, Secret, Serving; chat -> a task run Succeeded; skill removed
 * -> torn down; instance deleted -> nothing left.
 */

let plane: Awaited<ReturnType<typeof startPlane>>;
beforeAll(async () => {
  plane = await startPlane();
});
afterAll(async () => {
  await plane?.stop();
});

const get = (path: string) => plane.api.get(path);

describe('the local control plane', () => {
  test("installs v0.5.8's built-in SkillPacks and policy presets in sympozium-system, as upstream ships them", async () => {
    const packs = await plane.api.list('/apis/sympozium.ai/v1alpha1/namespaces/sympozium-system/skillpacks');
    const names = packs.map((pack: Obj) => pack.metadata.name).sort();
    // config/skills of v0.5.8: no subagents pack yet (v0.10 adds it); github-gitops and software-dev carry no
    // sympozium.ai/builtin label upstream.
    expect(names).toEqual(['code-review', 'github-gitops', 'incident-response', 'k8s-ops', 'llmfit', 'memory', 'software-dev', 'sre-observability', 'web-endpoint']);
    const web = packs.find((pack: Obj) => pack.metadata.name === 'web-endpoint');
    expect(web.metadata.labels).toMatchObject({ 'sympozium.ai/builtin': 'true', 'sympozium.ai/category': 'connectivity' });
    expect(web.spec.sidecar.requiresServer).toBe(true);
    expect(web.spec.sidecar.ports).toEqual([{ name: 'http', containerPort: 8080 }]);
    expect(web.status).toMatchObject({ phase: 'Ready', skillCount: 1 });
    const policies = await plane.api.list('/apis/sympozium.ai/v1alpha1/namespaces/sympozium-system/sympoziumpolicies');
    expect(policies.map((policy: Obj) => policy.metadata.name).sort()).toEqual(['network-isolated', 'permissive', 'restrictive']);
    expect(policies.every((policy: Obj) => policy.metadata.labels['sympozium.ai/builtin'] === 'true')).toBe(true);
    const controller = await get('/apis/apps/v1/namespaces/sympozium-system/deployments/sympozium-controller-manager');
    expect(controller.spec.template.spec.containers[0].image).toBe('ghcr.io/sympozium-ai/sympozium/controller:v0.5.8');
    expect(controller.metadata.labels).toMatchObject({ 'control-plane': 'controller-manager', 'app.kubernetes.io/component': 'controller' });
  });

  test('instance -> Running -> web endpoint Serving -> chat run -> skill removed -> deleted, nothing left', async () => {
    const watched = recordPhases(plane.api, paths.instances(), 'life');
    await plane.api.create(paths.instances(), instanceManifest('life'));
    const running = await waitFor(async () => {
      const instance = await get(paths.instances('default', 'life'));
      return instance?.status?.phase === 'Running' ? instance : undefined;
    }, 'life Running');
    expect(running.metadata.finalizers).toContain('sympozium.ai/finalizer');
    // Upstream's instance controller writes no conditions, observedGeneration or webEndpoint.
    expect(running.status.conditions).toBeUndefined();
    expect(running.status.observedGeneration).toBeUndefined();
    expect(running.status.webEndpoint).toBeUndefined();

    // Enable the web endpoint the way the CLI does: a merge patch of spec.skills.
    await plane.api.patch(paths.instances('default', 'life'), { spec: { skills: [{ skillPackRef: 'k8s-ops' }, { skillPackRef: 'web-endpoint', params: { rate_limit_rpm: '120' } }] } });
    const serving = await waitFor(async () => {
      const instance = await get(paths.instances('default', 'life'));
      return instance?.status?.phase === 'Serving' ? instance : undefined;
    }, 'life Serving');
    expect(serving.status.webEndpoint).toBeUndefined();
    expect(serving.status.activeAgentPods).toBe(1);

    const run = await get(paths.runs('default', 'life-web-endpoint'));
    expect(run.spec.mode).toBe('server');
    expect(run.metadata.labels).toMatchObject({ 'sympozium.ai/instance': 'life', 'sympozium.ai/component': 'web-endpoint' });
    expect(run.status).toMatchObject({ phase: 'Serving', deploymentName: 'life-web-endpoint-server', serviceName: 'life-web-endpoint-server' });

    // Upstream's phase is Serving once the server run is, before its pod is ready: wait for the Deployment.
    const deployment = await waitFor(async () => {
      const found = await get(paths.deployments('default', 'life-web-endpoint-server'));
      return found?.status?.readyReplicas === 1 ? found : undefined;
    }, 'server Deployment ready');
    expect(deployment.status).toMatchObject({ readyReplicas: 1, availableReplicas: 1, observedGeneration: deployment.metadata.generation });
    const service = await get(paths.services('default', 'life-web-endpoint-server'));
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.ports).toEqual([expect.objectContaining({ port: 8080, targetPort: 8080 })]);
    const pods = await plane.api.list(paths.pods(), 'sympozium.ai/instance=life,sympozium.ai/component=agent-server');
    expect(pods).toHaveLength(1);
    expect(pods[0].status.phase).toBe('Running');
    // Every label of the Service's selector is on the pod, so port-forward to the Service finds it.
    for (const [label, value] of Object.entries(service.spec.selector)) expect(pods[0].metadata.labels[label]).toBe(value);
    const target = JSON.parse(pods[0].metadata.annotations['local.sympozium.ai/port-forward'])['8080'];
    expect(target).toBe(`127.0.0.1:${plane.proxyPort('default', 'life')}`);

    const secret = await get(paths.secrets('default', 'life-web-proxy-key'));
    expect(secret.metadata.labels).toMatchObject({ 'sympozium.ai/component': 'web-proxy', 'sympozium.ai/instance': 'life' });
    const key = Buffer.from(secret.data['api-key'], 'base64').toString();
    expect(key).toMatch(/^sk-[0-9a-f]{48}$/);

    // The proxy answers on the pod's target, and its health check needs no key.
    expect(await (await fetch(`http://${target}/healthz`)).text()).toBe('ok');
    const response = await fetch(`http://${target}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'first' }, { role: 'assistant', content: 'x' }, { role: 'user', content: 'what is up?' }] }),
    });
    expect(response.status).toBe(200);
    const completion = (await response.json()) as Obj;
    expect(completion.choices[0].message.content).toBe(`${echoPrefix} what is up?`);
    // The proxy answered on the agent's completion event; the run turns Succeeded once its Job has ended.
    const chatRun = await waitFor(async () => {
      const run = await get(paths.runs('default', completion.id.replace(/^chatcmpl-/, '')));
      return run?.status?.phase === 'Succeeded' ? run : undefined;
    }, 'the chat run Succeeded');
    expect(chatRun.metadata.name).toMatch(/^life-web-/);
    expect(chatRun.metadata.labels).toMatchObject({ 'sympozium.ai/instance': 'life', 'sympozium.ai/source': 'web-proxy' });
    expect(chatRun.spec).toMatchObject({ agentId: 'primary', task: 'what is up?', systemPrompt: 'Be brief.', timeout: '10m', skills: [{ skillPackRef: 'k8s-ops' }] });
    expect(chatRun.status).toMatchObject({ phase: 'Succeeded', result: completion.choices[0].message.content });
    // Neither release writes an exit code into a run's status.
    expect(chatRun.status).not.toHaveProperty('exitCode');
    expect(chatRun.status.podName).toBeTruthy();
    // Succeeded is written after the Job ended, from the agent's log (agentrun_controller.go reconcileRunning).
    const job = await get(`/apis/batch/v1/namespaces/default/jobs/${chatRun.metadata.name}`);
    expect(job.status).toMatchObject({ succeeded: 1, active: 0 });
    expect(Date.parse(job.status.completionTime)).toBeLessThanOrEqual(Date.parse(chatRun.status.completedAt));
    // Upstream's chat answer has no usage; the run's tokenUsage has it.
    expect(completion.usage).toBeUndefined();
    expect(chatRun.status.tokenUsage.totalTokens).toBeGreaterThan(0);
    // Upstream never writes status.totalAgentRuns.
    expect((await get(paths.instances('default', 'life')))?.status?.totalAgentRuns).toBeUndefined();

    // Removing the skill tears the endpoint down.
    await plane.api.patch(paths.instances('default', 'life'), { spec: { skills: [{ skillPackRef: 'k8s-ops' }] } });
    const after = await waitFor(async () => {
      const instance = await get(paths.instances('default', 'life'));
      return instance?.status?.phase === 'Running' && !instance.status.webEndpoint ? instance : undefined;
    }, 'life back to Running');
    expect(after.status.conditions).toBeUndefined();
    await waitFor(async () => !(await get(paths.runs('default', 'life-web-endpoint'))), 'server run gone');
    await waitFor(async () => !(await get(paths.deployments('default', 'life-web-endpoint-server'))), 'Deployment gone');
    await waitFor(async () => !(await get(paths.services('default', 'life-web-endpoint-server'))), 'Service gone');
    await waitFor(async () => !(await get(paths.secrets('default', 'life-web-proxy-key'))), 'key Secret gone');
    // The server's pods go with it; a task run's pod stays until its Job's ttlSecondsAfterFinished (300 s), as upstream.
    await waitFor(async () => (await plane.api.list(paths.pods(), 'sympozium.ai/instance=life,sympozium.ai/component!=agent-run')).length === 0, 'server pods gone');
    expect(plane.proxyPort('default', 'life')).toBeUndefined();
    await expect(fetch(`http://${target}/healthz`)).rejects.toThrow();

    // Deleting the instance removes what it created (the chat run) and then the instance itself.
    expect(await plane.api.delete(paths.instances('default', 'life'))).toBe(200);
    await waitFor(async () => !(await get(paths.instances('default', 'life'))), 'instance gone');
    expect(await plane.api.list(paths.runs(), 'sympozium.ai/instance=life')).toEqual([]);
    watched.stop();
    expect(watched.phases).toEqual(['Running', 'Serving', 'Running']);
  });

  test('a missing authRefs Secret does not stop the instance: Running, as upstream', async () => {
    await plane.api.create(paths.instances(), instanceManifest('creds', { authRefs: [{ provider: 'openai', secret: 'creds-openai-key' }] }));
    const running = await waitFor(async () => {
      const instance = await get(paths.instances('default', 'creds'));
      return instance?.status?.phase ? instance : undefined;
    }, 'creds phase');
    expect(running.status.phase).toBe('Running');
    expect(running.status.conditions).toBeUndefined();
  });

  test('a policyRef missing from the run namespace fails the run with upstream\'s text', async () => {
    await plane.api.create(paths.instances(), instanceManifest('nopolicy', { policyRef: 'permissive' }));
    await plane.api.create(paths.runs(), {
      apiVersion: 'sympozium.ai/v1alpha1',
      kind: 'AgentRun',
      metadata: { name: 'nopolicy-run' },
      spec: { instanceRef: 'nopolicy', agentId: 'primary', sessionKey: 's', task: 'hello', model: { provider: 'openai', model: 'echo', authSecretRef: '' } },
    });
    const failed = await waitFor(async () => {
      const run = await get(paths.runs('default', 'nopolicy-run'));
      return run?.status?.phase === 'Failed' ? run : undefined;
    }, 'nopolicy-run Failed');
    expect(failed.status.error).toBe('policy validation failed: policy "permissive" not found: sympoziumpolicies.sympozium.ai "permissive" not found');
  });

  test('channels report Connected when their Secret exists and Error otherwise', async () => {
    await plane.api.create(paths.secrets(), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tg-creds' }, stringData: { TELEGRAM_BOT_TOKEN: 'x' } });
    await plane.api.create(
      paths.instances(),
      instanceManifest('chan', { channels: [{ type: 'telegram', configRef: { secret: 'tg-creds' } }, { type: 'slack', configRef: { secret: 'nope' } }] }),
    );
    const instance = await waitFor(async () => {
      const current = await get(paths.instances('default', 'chan'));
      return current?.status?.channels ? current : undefined;
    }, 'channel status');
    expect(instance.status.channels.map((channel: Obj) => [channel.type, channel.status])).toEqual([
      ['telegram', 'Connected'],
      ['slack', 'Error'],
    ]);
    expect(instance.status.channels[1].message).toContain('nope');
  });

  test('task runs: Running -> Succeeded, [fail] -> Failed with the provider message, spec.timeout enforced', async () => {
    await plane.api.create(paths.instances(), instanceManifest('tasks'));
    const run = (name: string, task: string, timeout?: string) =>
      plane.api.create(paths.runs(), {
        apiVersion: 'sympozium.ai/v1alpha1',
        kind: 'AgentRun',
        metadata: { name, labels: { 'sympozium.ai/instance': 'tasks' } },
        spec: { instanceRef: 'tasks', agentId: 'primary', sessionKey: name, task, model: { provider: 'openai', model: 'gpt-4.1', authSecretRef: '' }, ...(timeout ? { timeout } : {}) },
      });
    await run('ok-run', 'say hi');
    await run('fail-run', 'please [fail] now');
    await run('slow-run', 'wait [hang] forever', '300ms');
    const done = (name: string) =>
      waitFor(async () => {
        const current = await get(paths.runs('default', name));
        return ['Succeeded', 'Failed'].includes(current?.status?.phase) ? current : undefined;
      }, `${name} done`);
    const ok = await done('ok-run');
    expect(ok.status).toMatchObject({ phase: 'Succeeded', result: `${echoPrefix} say hi` });
    expect(ok.status.startedAt && ok.status.completedAt && ok.status.podName).toBeTruthy();
    const failed = await done('fail-run');
    expect(failed.status.phase).toBe('Failed');
    expect(failed.status.error).toContain('[fail]');
    const slow = await done('slow-run');
    expect(slow.status).toMatchObject({ phase: 'Failed', error: 'timeout' });
  });

  test('only the newest completed runs are kept per instance', async () => {
    const small = await startPlane({ historyLimit: 2 });
    try {
      await small.api.create(paths.instances(), instanceManifest('hist'));
      for (const index of [1, 2, 3, 4]) {
        await small.api.create(paths.runs(), {
          apiVersion: 'sympozium.ai/v1alpha1',
          kind: 'AgentRun',
          metadata: { name: `hist-${index}`, labels: { 'sympozium.ai/instance': 'hist' } },
          spec: { instanceRef: 'hist', agentId: 'primary', sessionKey: 's', task: `task ${index}`, model: { provider: 'openai', model: 'm', authSecretRef: '' } },
        });
        await waitFor(async () => (await small.api.get(paths.runs('default', `hist-${index}`)))?.status?.phase === 'Succeeded', `hist-${index}`);
      }
      await waitFor(async () => (await small.api.list(paths.runs(), 'sympozium.ai/instance=hist')).length === 2, 'pruned to 2');
      const left = (await small.api.list(paths.runs(), 'sympozium.ai/instance=hist')).map((run: Obj) => run.metadata.name).sort();
      expect(left).toEqual(['hist-3', 'hist-4']);
    } finally {
      await small.stop();
    }
  });
});
