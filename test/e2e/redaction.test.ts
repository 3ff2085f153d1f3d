import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactSecrets } from '../../src/sympozium/secrets.js';
import { startBareCluster, type BareCluster } from '../support/bare-cluster.js';

/**
 * A provider's error that echoes the key it was given ends up in the run's status.error, written by the
 * controller; every command that prints runs masks it. The bare emulator holds a failed run as a controller
 * would have left it.
 */

const api = '/apis/sympozium.ai/v1alpha1/namespaces/default';
const leaked = 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx9876';
const error = `401 Unauthorized: Incorrect API key provided: ${leaked}. You can find your API key at https://platform.openai.com (Authorization: Bearer ${leaked})`;
let cluster: BareCluster;
const cli = (args: string[]) => cluster.cli(args);

beforeAll(async () => {
  cluster = await startBareCluster('sympozium-redaction-');
  const kube = cluster.kube;
  await kube.create(`${api}/agentruns`, {
    apiVersion: 'sympozium.ai/v1alpha1',
    kind: 'AgentRun',
    metadata: { name: 'demo-task-leak', labels: { 'sympozium.ai/instance': 'demo' } },
    spec: { instanceRef: 'demo', agentId: 'primary', sessionKey: 's', task: 'hello', model: { provider: 'openai', model: 'gpt-4.1', authSecretRef: 'demo-openai-key' } },
  });
  await kube.mergePatch(`${api}/agentruns/demo-task-leak/status`, { status: { phase: 'Failed', error, completedAt: new Date().toISOString() } });
});

afterAll(async () => {
  await cluster?.stop();
});

describe('secrets in server text are masked', () => {
  it('runs get, runs get -o json, runs list -o wide/yaml and runs tail --until-done never print the key', async () => {
    const outputs = await Promise.all([
      cli(['runs', 'get', 'demo-task-leak']),
      cli(['runs', 'get', 'demo-task-leak', '-o', 'json']),
      cli(['runs', 'list', '-o', 'wide']),
      cli(['runs', 'list', '-o', 'yaml']),
      cli(['runs', 'tail', '--run', 'demo-task-leak', '--until-done']),
      cli(['runs', 'tail', '--run', 'demo-task-leak', '--until-done', '-o', 'json']),
    ]);
    for (const result of outputs) {
      expect(result.stdout + result.stderr).not.toContain(leaked.slice(8));
      expect(result.stdout + result.stderr).toContain('sk-…9876');
    }
    expect(JSON.parse(outputs[1]!.stdout).status.error).toContain('Incorrect API key provided: sk-…9876');
    expect(outputs[4]!.code).toBe(1);
  });

  it('masks key shapes and known values, and leaves ordinary text alone', () => {
    expect(redactSecrets(`AKIAABCDEFGHIJKLMNOP and AIza${'x'.repeat(35)} and Bearer abc.def-123456`)).toBe('…MNOP and …xxxx and Bearer …3456');
    expect(redactSecrets('the key my-own-secret-value was refused', ['my-own-secret-value'])).toBe('the key …alue was refused');
    expect(redactSecrets('policy "default" not found; task-sk-1 failed')).toBe('policy "default" not found; task-sk-1 failed');
  });
});
