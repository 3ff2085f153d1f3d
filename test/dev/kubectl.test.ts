import { spawn, type ChildProcess } from 'node:child_process';
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

/** Asynchronous on purpose: the plane runs in this process, so a spawnSync would block the server kubectl calls. */
function kubectl(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectlPath, args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill(), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

describe.skipIf(!haveKubectl)('kubectl against the local control plane', () => {
  test('`kubectl get sympoziuminstances -w` and `kubectl get agentruns -w` show the lifecycle as it happens', async () => {
    // kubectl 1.32 watches one resource type per command ("you may only specify a single resource type").
    const watches = ['sympoziuminstances', 'agentruns'].map((kind) => {
      const child = spawn(kubectlPath, ['get', kind, '-w'], { env });
      children.push(child);
      const seen = { output: '' };
      child.stdout.on('data', (chunk) => (seen.output += chunk));
      child.stderr.on('data', (chunk) => (seen.output += chunk));
      return { child, seen };
    });
    const watching = (kind: string) =>
      plane.apiServer.requestLog.some((entry) => entry.path.endsWith(`/${kind}`) && entry.query.includes('watch=true') && entry.headers['user-agent']?.startsWith('kubectl'));
    await waitFor(() => (watching('sympoziuminstances') && watching('agentruns')) || undefined, 'kubectl watches started', 15_000);

    const manifest = [
      'apiVersion: sympozium.ai/v1alpha1',
      'kind: SympoziumInstance',
      'metadata: {name: watched}',
      'spec:',
      '  agents: {default: {model: gpt-4.1}}',
      '  skills: [{skillPackRef: web-endpoint}]',
    ].join('\n');
    const applied = await kubectl(['apply', '-f', '-'], manifest);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('sympoziuminstance.sympozium.ai/watched created');
    // Upstream writes no conditions on an instance: wait on the phase, as one must against a real cluster.
    const waited = await kubectl(['wait', 'sympoziuminstance/watched', '--for=jsonpath={.status.phase}=Serving', '--timeout=20s']);
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

    const [instances, runs] = watches.map((watch) => watch.seen);
    await waitFor(() => /watched-web-\w+\s+watched\s+Succeeded/.test(runs!.output) || undefined, 'the chat run Succeeded in the watch', 15_000);
    for (const watch of watches) watch.child.kill();
    const instanceRows = instances!.output.split('\n').filter((line) => /^watched\s/.test(line));
    const phases = instanceRows
      .map((line) => line.split(/\s+/)[1]!)
      .filter((phase) => ['Pending', 'Running', 'Serving', 'Error'].includes(phase))
      .filter((phase, index, all) => phase !== all[index - 1]);
    expect(phases.slice(0, 2)).toEqual(['Running', 'Serving']); // upstream writes no Pending on an instance
    const runRows = runs!.output.split('\n');
    expect(runRows.some((line) => /^watched-web-endpoint\s+watched\s+Serving/.test(line))).toBe(true);
    expect(runRows.some((line) => /^watched-web-\w{5}\s+watched\s+Running/.test(line))).toBe(true);

    const table = await kubectl(['get', 'sympoziuminstances']);
    expect(table.stdout).toMatch(/NAME\s+PHASE\s+ACTIVE AGENTS\s+TOTAL RUNS\s+AGE/);
    expect(table.stdout).toMatch(/watched\s+Serving\s+1\s/);
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
