import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { paths, servingInstance, startPlane, waitFor } from './helpers.js';

/** What a user sees with the real kubectl against the local control plane. */

const kubectlPath = '/usr/bin/kubectl';
const haveKubectl = existsSync(kubectlPath);
if (!haveKubectl) console.warn(`skipping the kubectl tests: ${kubectlPath} not found`);

let plane: Awaited<ReturnType<typeof startPlane>>;
let dir: string;
let env: NodeJS.ProcessEnv;
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!haveKubectl) return;
  plane = await startPlane();
  dir = mkdtempSync(join(tmpdir(), 'sympozium-kubectl-'));
  writeFileSync(join(dir, 'kubeconfig'), plane.kubeconfigYaml());
  env = { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache'), HOME: dir };
});
afterAll(async () => {
  for (const child of children) child.kill();
  await plane?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function kubectl(args: string[], input?: string) {
  const result = spawnSync(kubectlPath, args, { env, input, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.skipIf(!haveKubectl)('kubectl against the local control plane', () => {
  test('`kubectl get sympoziuminstances,agentruns -w` shows the lifecycle as it happens', async () => {
    const watch = spawn(kubectlPath, ['get', 'sympoziuminstances,agentruns', '-w'], { env });
    children.push(watch);
    let output = '';
    watch.stdout.on('data', (chunk) => (output += chunk));
    watch.stderr.on('data', (chunk) => (output += chunk));
    await waitFor(() => output.includes('No resources found') || output.length > 0 || undefined, 'kubectl watch started', 15_000);
    await new Promise((resolve) => setTimeout(resolve, 500));

    const manifest = [
      'apiVersion: sympozium.ai/v1alpha1',
      'kind: SympoziumInstance',
      'metadata: {name: watched}',
      'spec:',
      '  agents: {default: {model: gpt-4.1}}',
      '  skills: [{skillPackRef: web-endpoint}]',
    ].join('\n');
    const applied = kubectl(['apply', '-f', '-'], manifest);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('sympoziuminstance.sympozium.ai/watched created');
    const waited = kubectl(['wait', 'sympoziuminstance/watched', '--for=condition=Ready', '--timeout=20s']);
    expect(waited.stdout).toContain('condition met');
    await waitFor(async () => (await plane.api.get(paths.instances('default', 'watched')))?.status?.phase === 'Serving', 'watched Serving');

    const key = await plane.api.apiKey('watched');
    const port = plane.proxyPort('default', 'watched');
    const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}` },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hello kubectl' }] }),
    });
    expect(response.status).toBe(200);

    await waitFor(() => /watched-web-\w+\s+watched\s+Succeeded/.test(output) || undefined, 'the chat run Succeeded in the watch', 15_000);
    watch.kill();
    const lines = output.split('\n');
    const instanceRows = lines.filter((line) => /^watched\s/.test(line));
    const phases = instanceRows.map((line) => line.split(/\s+/)[1]).filter((phase, index, all) => phase !== all[index - 1]);
    expect(phases.slice(0, 3)).toEqual(['Pending', 'Running', 'Serving']);
    expect(lines.some((line) => /^watched-web-endpoint\s+watched\s+Serving/.test(line))).toBe(true);
    expect(lines.some((line) => /^watched-web-\w{5}\s+watched\s+Running/.test(line))).toBe(true);

    const table = kubectl(['get', 'sympoziuminstances']);
    expect(table.stdout).toMatch(/NAME\s+PHASE\s+ACTIVE AGENTS\s+TOTAL RUNS\s+AGE/);
    expect(table.stdout).toMatch(/watched\s+Serving\s+1\s+2\s/);
  });

  test('`kubectl port-forward` to the server Service reaches the web proxy', async () => {
    await servingInstance(plane, 'forwarded');
    const forward = spawn(kubectlPath, ['port-forward', 'svc/forwarded-web-endpoint-server', ':8080'], { env });
    children.push(forward);
    let output = '';
    forward.stdout.on('data', (chunk) => (output += chunk));
    forward.stderr.on('data', (chunk) => (output += chunk));
    const local = await waitFor(() => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output)?.[1], 'port-forward ready', 15_000);
    const response = await fetch(`http://127.0.0.1:${local}/healthz`);
    expect(await response.text()).toBe('ok');
    const models = await fetch(`http://127.0.0.1:${local}/v1/models`, { headers: { Authorization: `Bearer ${await plane.api.apiKey('forwarded')}` } });
    expect(((await models.json()) as { data: { id: string }[] }).data[0]!.id).toBe('gpt-4.1');
    forward.kill();
  });
});
