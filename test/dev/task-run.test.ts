import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { instanceManifest, paths, startPlane, waitFor, type Obj } from './helpers.js';

/**
 * A task run's end as upstream's AgentRun controller writes it (agentrun_controller.go reconcileRunning, v0.5.8
 * and v0.10.46): the agent prints its result marker, the Job ends a moment later, and only then is the run
 * Succeeded or Failed, with the result, token usage and error read back from the agent's log.
 */

let plane: Awaited<ReturnType<typeof startPlane>>;
const jobEndMs = 400;
beforeAll(async () => {
  plane = await startPlane({ timings: { jobEndMs } });
  await plane.api.create(paths.secrets(), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tr-key' }, stringData: { OPENAI_API_KEY: 'sk-test' } });
  await plane.api.create(paths.instances(), instanceManifest('tr', { authRefs: [{ provider: 'openai', secret: 'tr-key' }] }));
});
afterAll(async () => {
  await plane?.stop();
});

const runPath = (name?: string) => paths.runs('default', name);
const jobPath = (name: string) => `/apis/batch/v1/namespaces/default/jobs/${name}`;

function taskRun(name: string, task: string): Obj {
  return { apiVersion: 'sympozium.ai/v1alpha1', kind: 'AgentRun', metadata: { name, namespace: 'default' }, spec: { instanceRef: 'tr', agentId: 'primary', sessionKey: name, task, model: { provider: 'openai', model: 'echo', authSecretRef: 'tr-key' } } };
}

async function agentLog(pod: string): Promise<string> {
  const { body } = await plane.api.request('GET', `/api/v1/namespaces/default/pods/${pod}/log?container=agent`);
  return String(body);
}

describe('task runs end after their Job, as upstream', () => {
  test('the result is in the log while the run is still Running; Succeeded follows the Job with tokenUsage', async () => {
    await plane.api.create(runPath(), taskRun('tr-ok', 'hello there'));
    const running = await waitFor(async () => {
      const run = await plane.api.get(runPath('tr-ok'));
      return run?.status?.podName && (await agentLog(run.status.podName)).includes('__SYMPOZIUM_RESULT__') ? run : undefined;
    }, 'result marker in the agent log');
    // The agent has answered, yet the Job has not ended, so upstream's controller has not written the end.
    expect(running.status.phase).toBe('Running');
    expect(running.status.result).toBeUndefined();
    const done = await waitFor(async () => {
      const run = await plane.api.get(runPath('tr-ok'));
      return run?.status?.phase === 'Succeeded' ? run : undefined;
    }, 'tr-ok Succeeded');
    const job = await plane.api.get(jobPath('tr-ok'));
    expect(job.status).toMatchObject({ succeeded: 1, active: 0 });
    expect(done.status.result).toContain('hello there');
    const log = await agentLog(done.status.podName);
    expect(log).toContain(JSON.stringify(done.status.result).slice(1, -1));
    expect(done.status.tokenUsage.totalTokens).toBe(done.status.tokenUsage.inputTokens + done.status.tokenUsage.outputTokens);
    expect(done.status.tokenUsage.totalTokens).toBeGreaterThan(0);
    expect(done.status).not.toHaveProperty('exitCode');
  });

  test("a failing agent fails the run with the error from its log, after its Job failed", async () => {
    await plane.api.create(runPath(), taskRun('tr-bad', 'please [fail]'));
    const done = await waitFor(async () => {
      const run = await plane.api.get(runPath('tr-bad'));
      return run?.status?.phase === 'Failed' ? run : undefined;
    }, 'tr-bad Failed');
    const job = await plane.api.get(jobPath('tr-bad'));
    expect(job.status).toMatchObject({ failed: 1, active: 0 });
    expect(job.status.conditions[0]).toMatchObject({ type: 'Failed', status: 'True' });
    expect(done.status.error).toBeTruthy();
    const log = await agentLog(done.status.podName);
    expect(log).toContain('"status":"error"');
    expect(log).toContain(done.status.error);
    expect(done.status.tokenUsage).toBeUndefined();
  });

  test('without its provider Secret the agent container cannot start: Running, CreateContainerConfigError, then "timeout"', async () => {
    const run = taskRun('tr-nokey', 'hello');
    run.spec.model.authSecretRef = 'tr-missing';
    run.spec.timeout = '1s';
    await plane.api.create(runPath(), run);
    const pod = await waitFor(async () => {
      const pods = await plane.api.list(paths.pods(), 'sympozium.ai/agent-run=tr-nokey');
      const waiting = pods[0]?.status?.containerStatuses?.find((status: Obj) => status.name === 'agent')?.state?.waiting;
      return waiting ? pods[0] : undefined;
    }, 'tr-nokey agent container waiting');
    expect(pod.status.phase).toBe('Pending');
    const agent = pod.status.containerStatuses.find((status: Obj) => status.name === 'agent');
    expect(agent.state.waiting).toEqual({ reason: 'CreateContainerConfigError', message: 'secret "tr-missing" not found' });
    expect((await plane.api.get(runPath('tr-nokey'))).status.phase).toBe('Running');
    // The kubelet's Warning, which outlives the pod.
    const events = await waitFor(async () => {
      const items = await plane.api.list('/api/v1/namespaces/default/events', undefined);
      const found = items.filter((event: Obj) => event.involvedObject?.name === pod.metadata.name && event.reason === 'Failed');
      return found.length ? found : undefined;
    }, 'the Failed event');
    expect(events[0]).toMatchObject({ type: 'Warning', message: 'Error: secret "tr-missing" not found', involvedObject: { kind: 'Pod', fieldPath: 'spec.containers{agent}' }, source: { component: 'kubelet' } });
    const done = await waitFor(async () => {
      const current = await plane.api.get(runPath('tr-nokey'));
      return current?.status?.phase === 'Failed' ? current : undefined;
    }, 'tr-nokey Failed');
    expect(done.status.error).toBe('timeout');
    // reconcileRunning deletes the Job of a run that timed out.
    expect(await plane.api.get(jobPath('tr-nokey'))).toBeUndefined();
  });

  test('the container starts once the Secret appears, and the run succeeds', async () => {
    const run = taskRun('tr-late', 'late key');
    run.spec.model.authSecretRef = 'tr-late-key';
    await plane.api.create(runPath(), run);
    await waitFor(async () => (await plane.api.list(paths.pods(), 'sympozium.ai/agent-run=tr-late'))[0]?.status?.containerStatuses?.some((status: Obj) => status.state?.waiting), 'tr-late agent container waiting');
    await plane.api.create(paths.secrets(), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tr-late-key' }, stringData: { OPENAI_API_KEY: 'sk-test' } });
    const done = await waitFor(async () => {
      const current = await plane.api.get(runPath('tr-late'));
      return ['Succeeded', 'Failed'].includes(current?.status?.phase) ? current : undefined;
    }, 'tr-late finished');
    expect(done.status.phase).toBe('Succeeded');
  });
});
