import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '../../src/kube/client.js';
import type { AgentRun } from '../../src/sympozium/types.js';
import { startDevCluster, type DevCluster } from '../support/dev-cluster.js';

/** runs cancel / runs delete / run against the local control plane, as upstream's abort (delete the run) does. */
let cluster: DevCluster;
let kube: KubeClient;
const cli = (args: string[], input?: string) => cluster.cli(args, { input });
const api = '/apis/sympozium.ai/v1alpha1/namespaces/default/agentruns';

const task = (name: string, text: string) => ({
  apiVersion: 'sympozium.ai/v1alpha1',
  kind: 'AgentRun',
  metadata: { name, labels: { 'sympozium.ai/instance': 'worker' } },
  spec: { instanceRef: 'worker', agentId: 'default', sessionKey: name, task: text, model: { provider: 'openai', model: 'gpt-4.1', authSecretRef: 'worker-openai-key' } },
});

async function phaseOf(name: string): Promise<string | undefined> {
  for (let i = 0; i < 100; i++) {
    const run = await kube.getOrUndefined<AgentRun>(`${api}/${name}`);
    if (run?.status?.phase) return run.status.phase;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

beforeAll(async () => {
  cluster = await startDevCluster('sympozium-cancel-', { extraEnv: { TEST_OPENAI_KEY: 'sk-test-not-real' } });
  kube = cluster.kube;
  const init = await cli(['init', 'worker', '--provider', 'openai', '--api-key-env', 'TEST_OPENAI_KEY', '--yes', '--apply', '--out', join(cluster.dir, 'worker.yaml')]);
  expect(init.code, init.stderr).toBe(0);
});
afterAll(async () => cluster?.stop());

describe('runs cancel and runs delete', () => {
  it('cancel deletes a run still going and leaves a finished one alone', async () => {
    await kube.create(api, task('hanging', 'wait for me [hang]'));
    await kube.create(api, task('quick', 'hello'));
    expect(await phaseOf('hanging')).toBe('Running');
    for (let i = 0; i < 100 && (await phaseOf('quick')) !== 'Succeeded'; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const result = await cli(['runs', 'cancel', 'hanging', 'quick']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('agentrun.sympozium.ai/hanging cancelled (deleted; its Job and pod are removed with it)');
    expect(result.stdout).toContain('agentrun.sympozium.ai/quick already Succeeded: nothing to cancel');
    expect(await kube.getOrUndefined(`${api}/hanging`)).toBeUndefined();
    // Its Job and pod go with it (their owner references), so the agent really stops.
    let left = 1;
    for (let i = 0; i < 100 && left > 0; i++) {
      left = (await kube.list('/api/v1/namespaces/default/pods', { labelSelector: 'sympozium.ai/agent-run=hanging' })).items.length + ((await kube.getOrUndefined('/apis/batch/v1/namespaces/default/jobs/hanging')) ? 1 : 0);
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect(left).toBe(0);
    expect(await kube.getOrUndefined(`${api}/quick`)).toBeDefined();
  });

  it('a selection asks first: without a terminal it needs --yes; a missing run is exit 1', async () => {
    const refused = await cli(['runs', 'delete', '--instance', 'worker']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refusing to delete 1 run in namespace default without confirmation: quick');
    const deleted = await cli(['runs', 'delete', '--instance', 'worker', '--yes', '-o', 'json']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ deleted: ['quick'], notFound: [] });
    const missing = await cli(['runs', 'cancel', 'no-such-run']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('run no-such-run not found in namespace default');
  });

  it('run creates a task run shaped as upstream does, follows it, prints the result, and fails with the run\'s error', async () => {
    const done = await cli(['run', 'worker', 'what time is it?']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('what time is it?');
    expect(done.stderr).toMatch(/created run worker-run-\d+ for worker/);
    expect(done.stderr).toMatch(/run worker-run-\d+: Succeeded/);
    const name = /created run (worker-run-\d+)/.exec(done.stderr)![1]!;
    const created = await kube.get<AgentRun>(`${api}/${name}`);
    expect(created.metadata.labels).toEqual({ 'sympozium.ai/instance': 'worker' });
    expect(created.spec).toMatchObject({ instanceRef: 'worker', agentId: '', sessionKey: '', task: 'what time is it?', timeout: '10m0s', model: { provider: 'openai', model: 'gpt-4.1', authSecretRef: 'worker-openai-key' } });

    const failed = await cli(['run', 'worker', 'please [fail]']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toMatch(/error: run worker-run-\d+ failed: /);

    const queued = await cli(['run', 'worker', '--no-wait', '-o', 'name'], 'from stdin');
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stdout).toMatch(/^agentrun\.sympozium\.ai\/worker-run-\d+\n$/);

    const json = await cli(['run', 'worker', 'as json', '-o', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ kind: 'AgentRun', status: { phase: 'Succeeded' } });

    const none = await cli(['run', 'worker', '  ']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no task');
  });
});
