import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath } from '../support/bin.js';
import { startDevCluster, type DevCluster } from '../support/dev-cluster.js';

/**
 * A chat whose run cannot start. Upstream's agent container takes the provider Secret with envFrom and no
 * `optional` (agentrun_controller.go buildContainers), so without it the kubelet keeps the container in
 * CreateContainerConfigError, the run stays Running until its 10-minute timeout, and the proxy holds the request
 * as long. chat must say so while it waits, and carry on when the Secret appears.
 */

let cluster: DevCluster;
beforeAll(async () => {
  cluster = await startDevCluster('sympozium-podproblem-');
});
afterAll(async () => cluster?.stop());

const manifest = `apiVersion: sympozium.ai/v1alpha1
kind: SympoziumInstance
metadata:
  name: keyless
spec:
  agents:
    default:
      model: gpt-4.1
  authRefs:
    - provider: openai
      secret: keyless-openai-key
  skills:
    - skillPackRef: web-endpoint
`;

describe('chat while the run cannot start', () => {
  it('warns with the pod\'s reason while waiting, then answers once the Secret exists', async () => {
    const applied = await cluster.cli(['apply', '-f', '-'], { input: manifest });
    expect(applied.code, applied.stderr).toBe(0);
    const enabled = await cluster.cli(['enable', 'web-endpoint', 'keyless', '--timeout', '30s'], { timeoutMs: 40_000 });
    expect(enabled.code, enabled.stderr).toBe(0);

    const child = spawn(process.execPath, [binPath, 'chat', 'keyless', 'are you there?', '--no-stream'], { env: cluster.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    let warned!: () => void;
    const warning = new Promise<void>((resolve) => (warned = resolve));
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr += chunk;
      if (stderr.includes('cannot start')) warned();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const timeout = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      await Promise.race([warning, exited]);
      expect(stderr).toMatch(/run keyless-web-\S+ is Running but its pod cannot start: pod \S+ container agent: CreateContainerConfigError \(secret "keyless-openai-key" not found\)/);
      expect(stderr).toContain('sympozium doctor keyless');
      expect(stdout).toBe('');

      await cluster.kube.create('/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'keyless-openai-key' }, stringData: { OPENAI_API_KEY: 'sk-not-real' } });
      expect(await exited, stderr).toBe(0);
      expect(stdout).toContain('are you there?');
    } finally {
      clearTimeout(timeout);
      child.kill('SIGKILL');
    }
  }, 90_000);

  it('run says the same while it follows a run whose Secret is missing, and at --timeout says the run goes on', async () => {
    await cluster.kube.mergePatch(`/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances/keyless`, { spec: { authRefs: [{ provider: 'openai', secret: 'keyless-other-key' }] } });
    // --timeout bounds how long `run` follows; the run itself keeps upstream's 10m0s and goes on.
    const result = await cluster.cli(['run', 'keyless', 'never starts', '--timeout', '8s'], { timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/run keyless-run-\d+ is Running but its pod cannot start: pod \S+ container agent: CreateContainerConfigError \(secret "keyless-other-key" not found\)/);
    expect(result.stderr).toContain('sympozium doctor keyless');
    expect(result.stderr).toMatch(/is still Running after 8(\.0)?s; it goes on/);
  }, 60_000);
});
