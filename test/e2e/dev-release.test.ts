import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../support/bin.js';
import { buildPrivateCopy, runPrivateBin, type PrivateBuild } from '../support/private-build.js';

/**
 * `sympozium dev up --release v0.10.46` through the built bin, checked with the real kubectl and the real
 * `openai` SDK: the release's upstream CRDs (Agent, Ensemble, Model...), built-in SkillPacks and presets in
 * sympozium-system, the chart's controller Deployment; upstream's own Agent sample reaches Running; a web
 * endpoint on an Agent serves chat completions through a port-forward, its runs naming the Agent in
 * spec.agentRef. A persisted state keeps its release and refuses another.
 */

let build: PrivateBuild;
let home: string;
let stateDir: string;
const forwards: ChildProcess[] = [];

const env = () => ({ SYMPOZIUM_DEV_TIMINGS: 'fast', HOME: home, KUBECONFIG: join(stateDir, 'kubeconfig') });
const sympozium = (args: string[]) => runPrivateBin(build.bin, args, { cwd: home, env: env(), timeoutMs: 40_000 });
const dev = (args: string[]) => sympozium(['dev', ...args, '--state-dir', stateDir]);
/** The real kubectl, with the kubeconfig dev wrote. */
function kubectl(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', args, { cwd: home, env: { PATH: process.env.PATH, ...env() }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}
const agentSample = join(repoRoot, '..', 'shared', 'upstream', 'v0.10.46', 'config', 'samples', 'agent_sample.yaml');

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function serverPid(): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(stateDir, 'server.json'), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

/** `kubectl port-forward` to a service, resolving with the local port it listens on. */
function portForward(target: string, port: number): Promise<number> {
  const child = spawn('kubectl', ['port-forward', target, `:${port}`, '--address', '127.0.0.1'], { env: { PATH: process.env.PATH, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
  forwards.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`port-forward did not start: ${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`port-forward exited (${code}): ${output}`)));
  });
}

beforeAll(() => {
  build = buildPrivateCopy('sympozium-dev-release-');
  home = mkdtempSync(join(build.dir, 'home-'));
  stateDir = join(home, 'state');
});

afterAll(() => {
  for (const child of forwards) child.kill('SIGTERM');
  const pid = serverPid();
  if (pid) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  build?.remove();
});

describe('sympozium dev up --release v0.10.46', () => {
  test('installs the release: its CRDs, SkillPacks, presets and controller, seen with kubectl', async () => {
    const up = await dev(['up', '--release', 'v0.10.46', '-o', 'json']);
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ state: 'started', release: 'v0.10.46' });

    const crds = await kubectl(['get', 'crd', '-o', 'name']);
    expect(crds.code, crds.stderr).toBe(0);
    expect(crds.stdout.trim().split('\n').sort()).toEqual(
      ['agentruns', 'agents', 'ensembles', 'mcpservers', 'models', 'skillpacks', 'sympoziumconfigs', 'sympoziumpolicies', 'sympoziumschedules'].map(
        (plural) => `customresourcedefinition.apiextensions.k8s.io/${plural}.sympozium.ai`,
      ),
    );
    const packs = await kubectl(['get', 'skillpacks', '-n', 'sympozium-system', '-o', 'name']);
    expect(packs.stdout).toContain('skillpack.sympozium.ai/subagents');
    expect(packs.stdout).toContain('skillpack.sympozium.ai/web-endpoint');
    expect(packs.stdout.trim().split('\n')).toHaveLength(10);
    const policies = await kubectl(['get', 'sympoziumpolicies', '-A', '--no-headers', '-o', 'custom-columns=NS:.metadata.namespace,NAME:.metadata.name']);
    expect(policies.stdout.trim().split('\n').map((line) => line.split(/\s+/).join('/'))).toEqual([
      'sympozium-system/network-isolated',
      'sympozium-system/permissive',
      'sympozium-system/restrictive',
    ]);
    const resources = await kubectl(['api-resources', '--api-group', 'sympozium.ai']);
    expect(resources.stdout).toMatch(/^agents\s+sympozium\.ai\/v1alpha1\s+true\s+Agent$/m);
    expect(resources.stdout).not.toContain('SympoziumInstance');

    const image = await kubectl(['get', 'deploy', 'sympozium-controller-manager', '-n', 'sympozium-system', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
    expect(image.stdout).toBe('ghcr.io/sympozium-ai/sympozium/controller:v0.10.46');
    const version = await sympozium(['version', '-o', 'json']);
    expect(JSON.parse(version.stdout).sympozium).toMatchObject({ release: 'v0.10.46' });

    const status = await dev(['status']);
    expect(status.stdout).toMatch(/^release\s+Sympozium v0\.10\.46$/m);
    expect(status.stdout).toMatch(/agents=0/);
  });

  test.skipIf(!existsSync(agentSample))("upstream's Agent sample, applied with kubectl, reaches Running", async () => {
    const applied = await kubectl(['apply', '-f', agentSample]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toBe('agent.sympozium.ai/alice created\n');
    const phase = await eventually(async () => {
      const result = await kubectl(['get', 'agent', 'alice', '-o', 'jsonpath={.status.phase}']);
      return result.stdout === 'Running' ? result.stdout : undefined;
    }, 'alice Running');
    expect(phase).toBe('Running');
    const finalizers = await kubectl(['get', 'agent', 'alice', '-o', 'jsonpath={.metadata.finalizers}']);
    expect(finalizers.stdout).toContain('sympozium.ai/finalizer');
  });

  test('a web endpoint on an Agent: server run with agentRef, Deployment, Service, key Secret, and the openai SDK through a port-forward', async () => {
    const manifest = [
      'apiVersion: v1',
      'kind: Secret',
      'metadata: {name: bob-openai-key, namespace: default}',
      'stringData: {OPENAI_API_KEY: sk-local}',
      '---',
      'apiVersion: sympozium.ai/v1alpha1',
      'kind: Agent',
      'metadata: {name: bob, namespace: default}',
      'spec:',
      '  agents: {default: {model: gpt-4o, env: {TEAM: platform}}}',
      '  authRefs: [{provider: openai, secret: bob-openai-key}]',
      '',
    ].join('\n');
    expect((await kubectl(['apply', '-f', '-'], manifest)).code).toBe(0);
    // The CLI's own enable handles Agent (it patches the kind the cluster serves).
    const enabled = await sympozium(['enable', 'web-endpoint', 'bob']);
    expect(enabled.code, enabled.stderr).toBe(0);
    expect(enabled.stdout).toContain('bob-web-proxy-key');

    const run = JSON.parse((await kubectl(['get', 'agentrun', 'bob-web-endpoint', '-o', 'json'])).stdout);
    // As agent_controller.go ensureWebEndpointAgentRun: agentRef, and v0.10 copies the default agent's env.
    expect(run.spec).toMatchObject({ agentRef: 'bob', mode: 'server', agentId: 'web-endpoint', sessionKey: 'web-endpoint', task: 'Serve HTTP requests for this instance', env: { TEAM: 'platform' } });
    expect(run.spec.instanceRef).toBeUndefined();
    expect(run.metadata.labels).toMatchObject({ 'sympozium.ai/instance': 'bob', 'sympozium.ai/component': 'web-endpoint' });
    expect(run.metadata.ownerReferences[0]).toMatchObject({ kind: 'Agent', name: 'bob' });
    expect((await kubectl(['get', 'deploy/bob-web-endpoint-server', 'svc/bob-web-endpoint-server', 'secret/bob-web-proxy-key', '-o', 'name'])).code).toBe(0);
    expect((await kubectl(['get', 'agent', 'bob', '-o', 'jsonpath={.status.phase}'])).stdout).toBe('Serving');

    const key = Buffer.from((await kubectl(['get', 'secret', 'bob-web-proxy-key', '-o', 'jsonpath={.data.api-key}'])).stdout, 'base64').toString();
    expect(key).toMatch(/^sk-/);
    const port = await portForward('svc/bob-web-endpoint-server', 8080);
    const openai = new OpenAI({ apiKey: key, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
    const completion = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello from v0.10' }] });
    expect(completion.choices[0]!.message.content).toContain('hello from v0.10');

    const runs = JSON.parse((await kubectl(['get', 'agentruns', '-o', 'json'])).stdout).items as { metadata: { name: string }; spec: Record<string, unknown> }[];
    const chat = runs.filter((item) => item.metadata.name !== 'bob-web-endpoint' && item.spec.agentRef === 'bob');
    expect(chat).toHaveLength(1);
    expect(chat[0]!.spec.instanceRef).toBeUndefined();
  });

  test('a persisted state keeps its release and refuses another', async () => {
    expect((await dev(['down'])).code).toBe(0);
    const up = await dev(['up', '--persist', '--release', 'v0.10.46', '-o', 'json']);
    expect(up.code, up.stderr).toBe(0);
    const running = await dev(['up', '--release', 'v0.5.8']);
    expect(running.code).toBe(1);
    expect(running.stderr).toContain('already running Sympozium v0.10.46, not v0.5.8');
    expect((await dev(['down'])).code).toBe(0);

    // Without --release, the persisted state's own.
    const again = await dev(['up', '--persist', '-o', 'json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ release: 'v0.10.46' });
    expect((await dev(['down'])).code).toBe(0);

    const refused = await dev(['up', '--persist', '--release', 'v0.5.8']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('holds Sympozium v0.10.46 objects; it cannot be started as v0.5.8');
    expect(refused.stderr).toContain(`remove ${join(stateDir, 'state.json')}`);
    expect(serverPid()).toBeUndefined();

    // Without --persist the objects are not reused, so any release starts.
    const fresh = await dev(['up', '--release', 'v0.5.8', '-o', 'json']);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(JSON.parse(fresh.stdout)).toMatchObject({ release: 'v0.5.8' });
    const crds = await kubectl(['get', 'crd', '-o', 'name']);
    expect(crds.stdout).toContain('sympoziuminstances.sympozium.ai');
    expect(crds.stdout).not.toContain('agents.sympozium.ai');
    expect((await dev(['down'])).code).toBe(0);
  });

  test('an unknown release is a usage error', async () => {
    const result = await dev(['up', '--release', 'v0.9.0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('v0.10.46');
  });
});
