import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { foldMarkers } from '../../src/chat/conversation.js';
import { openPortForward } from '../../src/kube/portforward.js';
import { startLocalControlPlane, echoPrefix, type LocalControlPlane } from '../../src/dev/index.js';
import type { AgentRun } from '../../src/sympozium/types.js';
import { binPath, ensureBuilt, repoRoot, runBin } from '../support/bin.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { spawnPty, type PtySession } from '../support/pty.js';

/**
 * `chat` against the local control plane, the way a user reaches an instance: the endpoint and key found in
 * the cluster, the proxy reached through a port-forward over the API server, the run behind each answer
 * read back from the cluster.
 */

let plane: LocalControlPlane;
let dir: string;
let kubeconfig: string;
let kube: KubeClient;

const instance = (name: string, params: Record<string, string>) => ({
  apiVersion: 'sympozium.ai/v1alpha1',
  kind: 'SympoziumInstance',
  metadata: { name, namespace: 'default' },
  spec: { agents: { default: { model: 'gpt-4.1' } }, skills: [{ skillPackRef: 'web-endpoint', params }] },
});

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function serving(name: string): Promise<void> {
  await waitUntil(`${name} to serve`, async () => {
    const pods = await kube.list<{ status?: { phase?: string } }>('/api/v1/namespaces/default/pods', { labelSelector: `sympozium.ai/instance=${name},sympozium.ai/component=agent-server` });
    const secret = await kube.getOrUndefined(`/api/v1/namespaces/default/secrets/${name}-web-proxy-key`);
    return pods.items.some((pod) => pod.status?.phase === 'Running') && secret ? true : undefined;
  });
}

const runsOf = async (name: string) =>
  (await kube.list<AgentRun>('/apis/sympozium.ai/v1alpha1/namespaces/default/agentruns', { labelSelector: `sympozium.ai/instance=${name},sympozium.ai/source=web-proxy` })).items;

const env = () => ({ KUBECONFIG: kubeconfig, HOME: dir, SYMPOZIUM_API_KEY: '' });
const chat = (args: string[], options: { input?: string } = {}) => runBin(['chat', ...args], { env: env(), input: options.input });

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sympozium-chat-local-'));
  plane = await startLocalControlPlane();
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, plane.kubeconfigYaml());
  kube = createKubeClient({ globals: { kubeconfig }, env: {} });
  await kube.create('/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances', instance('demo', { rate_limit_rpm: '6000', rate_limit_burst: '100' }));
  await kube.create('/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances', instance('limited', { rate_limit_rpm: '20', rate_limit_burst: '1' }));
  await serving('demo');
  await serving('limited');
});

afterAll(async () => {
  kube?.close();
  await plane?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('chat through the cluster (port-forward, key from the Secret)', () => {
  it('answers one question, blocking, and shows the run behind it', async () => {
    const result = await chat(['demo', 'what pods are failing?', '--no-stream', '--verbose']);
    expect(result.stderr).not.toContain('error:');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${echoPrefix} what pods are failing?\n`);
    expect(result.stderr).toMatch(/endpoint: http:\/\/127\.0\.0\.1:\d+ \(port-forward to service demo-web-endpoint-server, pod /);
    expect(result.stderr).toContain('API key: from Secret demo-web-proxy-key');
    expect(result.stderr).toMatch(/run demo-web-[a-z0-9]+ · Succeeded · [\d.]+m?s · \d+ tokens \(\d+ in, \d+ out\)/);
    const name = /run (demo-web-[a-z0-9]+) ·/.exec(result.stderr)![1]!;
    const run = (await runsOf('demo')).find((r) => r.metadata.name === name);
    expect(run?.spec.task).toBe('what pods are failing?');
  });

  it('streams the answer', async () => {
    const result = await chat(['demo', '-m', 'stream this please', '--stream']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${echoPrefix} stream this please\n`);
    expect(result.stderr).toMatch(/run demo-web-[a-z0-9]+ · Succeeded/);
  });

  it('reads the question from piped stdin; -s adds a system message the run receives', async () => {
    const result = await chat(['demo', '-s', 'answer in French'], { input: 'from a pipe\n' });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${echoPrefix} from a pipe\n`);
    const run = (await runsOf('demo')).find((r) => r.spec.task === 'from a pipe');
    expect(run?.spec.systemPrompt).toBe('answer in French');
  });

  it('--json gives the response and the run status in one document', async () => {
    const result = await chat(['demo', '-m', 'as json', '--json']);
    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(document.response.choices[0].message.content).toBe(`${echoPrefix} as json`);
    expect(document.run).toMatchObject({ name: document.response.id.replace('chatcmpl-', ''), namespace: 'default', phase: 'Succeeded' });
    expect(document.run.status.tokenUsage.totalTokens).toBeGreaterThan(0);
  });

  it('a failed run is an error with the run named, blocking and streamed', async () => {
    const blocking = await chat(['demo', '-m', 'please [fail]', '--no-stream']);
    expect(blocking.code).toBe(1);
    expect(blocking.stderr).toMatch(/failing on purpose/);
    expect(blocking.stderr).toMatch(/sympozium runs get demo-web-[a-z0-9]+/);
    // Upstream's runner failure is a completion with no response: the stream has no content at all, and the run
    // fails once its Job has ended.
    const streamed = await chat(['demo', '-m', 'please [fail] again', '--stream']);
    expect(streamed.code).toBe(1);
    expect(streamed.stderr).toContain('the agent gave no answer');
    expect(streamed.stderr).toMatch(/failing on purpose/);
  });

  it('models and mcp work through the same port-forward', async () => {
    const models = await runBin(['models', 'demo'], { env: env() });
    expect(models.code).toBe(0);
    expect(models.stdout).toMatch(/gpt-4\.1\s+sympozium/);
    const call = await runBin(['mcp', 'demo', 'call', 'ask_agent', '--arg', 'task=list the pods'], { env: env() });
    expect(call.code, call.stderr).toBe(0);
    expect(call.stdout).toBe(`${echoPrefix} list the pods\n`);
    // As chat does, the run behind the answer is named on stderr, never on stdout.
    expect(call.stderr).toMatch(/^run demo-mcp-[a-z0-9]+ · Succeeded · /);
  });
});

describe('retries never start a second run', () => {
  it('a 429 from the proxy (Retry-After) is waited out: exactly one AgentRun for the request', async () => {
    // burst 1 refilled every 3s: the first request takes the only token, so the second is rate limited once.
    expect((await chat(['limited', '-m', 'first', '--no-stream'])).code).toBe(0);
    const before = (await runsOf('limited')).length;
    const result = await chat(['limited', '-m', 'second', '--no-stream']);
    expect(result.stderr).not.toContain('error:');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('rate limited (HTTP 429): trying again');
    expect(result.stdout).toBe(`${echoPrefix} second\n`);
    const runs = await runsOf('limited');
    expect(runs.length).toBe(before + 1);
    expect(runs.filter((r) => r.spec.task === 'second')).toHaveLength(1);
  });

  it('a 503 after the proxy started the run: not retried on v0.5.8, which ignores Idempotency-Key; one run', async () => {
    const front: Gateway = await startGateway(`http://127.0.0.1:${plane.proxyPort('default', 'demo')}`);
    try {
      front.enqueue({ kind: 'forward-then-503' });
      const result = await chat(['demo', '-m', 'retry through a flaky gateway', '--no-stream', '--url', front.url]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Not retried: the request may have started a run');
      expect(front.seen.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(1);
      const runs = (await runsOf('demo')).filter((r) => r.spec.task === 'retry through a flaky gateway');
      expect(runs).toHaveLength(1);
      // The run is named from the cluster, so the user can see it did run.
      expect(result.stderr).toContain(`(run ${runs[0]!.metadata.name})`);
    } finally {
      await front.stop();
    }
  });
});

describe('watching the run', () => {
  it("v0.5.8: a run the controller failed gets no failure event, so the proxy waits; chat reports it from the run", async () => {
    const started = Date.now();
    const result = await chat(['demo', '-m', 'dies [crash]', '--no-stream', '--timeout', '2m']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the agent run failed before the web endpoint answered: run demo-web-[a-z0-9]+ failed: Job failed/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a run that failed while the endpoint says nothing is reported without waiting for the timeout', async () => {
    const front: Gateway = await startGateway(`http://127.0.0.1:${plane.proxyPort('default', 'demo')}`);
    try {
      front.enqueue({ kind: 'forward-then-hang' });
      const result = await chat(['demo', '-m', 'stuck [fail]', '--no-stream', '--url', front.url, '--timeout', '2m']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/the agent run failed before the web endpoint answered: run demo-web-[a-z0-9]+ failed: echo model: failing on purpose/);
      expect(result.stderr).toMatch(/sympozium runs get demo-web-[a-z0-9]+/);
    } finally {
      await front.stop();
    }
  });
});

/**
 * Runs the bin until the run of `task` is Running (and a moment more, so the command's own watch has seen it),
 * then sends Ctrl-C; returns the exit code, stderr and the run's name.
 */
async function interruptWhileRunning(args: string[], task: string): Promise<{ code: number | null; stderr: string; name: string }> {
  const child = spawn(process.execPath, [binPath, ...args], { cwd: repoRoot, env: { ...process.env, ...env(), CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const run = await waitUntil('the hanging run', async () => (await runsOf('demo')).find((r) => r.spec.task === task && r.status?.phase === 'Running'));
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.kill('SIGINT');
  return { code: await exited, stderr, name: run.metadata.name };
}

describe('interactive session and Ctrl-C', { timeout: 90_000 }, () => {
  it('a session through a terminal: history folded into the task, /system, /reset, Ctrl-C cancels an answer, Ctrl-D leaves', async () => {
    const session: PtySession = spawnPty(process.execPath, [binPath, 'chat', 'demo'], { cwd: repoRoot, env: { ...process.env, ...env(), CI: '', NO_COLOR: '1', FORCE_COLOR: '0' } });
    try {
      await session.waitFor(/you ›/);
      let mark = session.mark();
      session.write('my name is Ada\r');
      await session.waitFor(new RegExp(`${escape(echoPrefix)} my name is Ada\\n+run demo-web-[a-z0-9]+ · Succeeded[^\\n]*\\n+you ›`), mark);

      mark = session.mark();
      session.write('what is my name?\r');
      await session.waitFor(/run demo-web-[a-z0-9]+ · Succeeded[^\n]*\n+you ›/, mark);
      const folded = (await runsOf('demo')).find((r) => typeof r.spec.task === 'string' && r.spec.task.endsWith('\nwhat is my name?'));
      expect(folded?.spec.task).toContain(foldMarkers.begin);
      expect(folded?.spec.task).toContain('[user]\nmy name is Ada');
      expect(folded?.spec.task).toContain(`[assistant]\n${echoPrefix} my name is Ada`);
      expect(folded?.spec.task).toContain(foldMarkers.end);

      mark = session.mark();
      session.write('/system answer briefly\r');
      await session.waitFor(/\(system message set\)/, mark);
      mark = session.mark();
      session.write('/reset\r');
      await session.waitFor(/\(conversation forgotten\)\n+you ›/, mark);

      // An answer that never comes: Ctrl-C cancels it and the session goes on.
      const beforeHang = session.mark();
      session.write('wait for me [hang]\r');
      await waitUntil('the hanging run', async () => (await runsOf('demo')).find((r) => r.spec.task === 'wait for me [hang]' && r.status?.phase === 'Running'));
      session.write('\x03');
      await session.waitFor(/\(answer cancelled\)\n+you ›/, beforeHang);

      mark = session.mark();
      session.write('after reset\r');
      await session.waitFor(new RegExp(`${escape(echoPrefix)} after reset\\n+run [^\\n]+\\n+you ›`), mark);
      const afterReset = (await runsOf('demo')).find((r) => r.spec.task === 'after reset');
      // /reset forgot the turns, so nothing was folded in; /system reached the run's system prompt.
      expect(afterReset).toBeDefined();
      expect(afterReset?.spec.systemPrompt).toContain('answer briefly');

      session.write('\x04');
      expect(await session.exited()).toBe(0);
    } finally {
      session.kill();
    }
  });

  it('leaving a session with Ctrl-C twice is an interruption (exit 130), unlike Ctrl-D', async () => {
    const session: PtySession = spawnPty(process.execPath, [binPath, 'chat', 'demo'], { cwd: repoRoot, env: { ...process.env, ...env(), CI: '', NO_COLOR: '1', FORCE_COLOR: '0' } });
    try {
      await session.waitFor(/you ›/);
      const mark = session.mark();
      session.write('\x03');
      await session.waitFor(/Ctrl-C again on an empty line/, mark);
      session.write('\x03');
      expect(await session.exited()).toBe(130);
    } finally {
      session.kill();
    }
  });

  // The connections are read with `ss` (iproute2); without it there is no way to look from outside.
  const hasSs = ['/usr/bin/ss', '/bin/ss', '/usr/sbin/ss', '/sbin/ss'].some((path) => existsSync(path));
  if (!hasSs) console.warn('skipping the Ctrl-C connection check: `ss` (iproute2) is not installed');
  it.skipIf(!hasSs)('Ctrl-C during a one-shot question exits 130 and leaves no port-forward behind', async () => {
    const child = spawn(process.execPath, [binPath, 'chat', 'demo', '-m', 'one shot [hang]', '--no-stream'], {
      cwd: repoRoot,
      env: { ...process.env, ...env(), CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await waitUntil('the hanging run', async () => (await runsOf('demo')).find((r) => r.spec.task === 'one shot [hang]' && r.status?.phase === 'Running'));
    // The child's connections to the API server: its reads, its watch and the port-forward's WebSocket.
    const childPorts = await waitUntil('the child to hold connections', async () => {
      const ports = clientPortsOf(child.pid!);
      return ports.size > 0 ? ports : undefined;
    });
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).not.toContain('error:');
    // On the server side, every connection from the child (the port-forward tunnel included) is closed.
    await waitUntil('the port-forward connections to close', async () => ([...serverPeerPorts()].some((port) => childPorts.has(port)) ? undefined : true));
  });

  it('Ctrl-C with --cancel-on-interrupt cancels the run it started; without it the run goes on and the way to stop it is named', async () => {
    const interrupt = (task: string, extra: string[]) => interruptWhileRunning(['chat', 'demo', '-m', task, '--no-stream', ...extra], task);
    const cancelled = await interrupt('cancel me [hang]', ['--cancel-on-interrupt']);
    expect(cancelled.code).toBe(130);
    expect(cancelled.stderr).toContain(`Cancelled run ${cancelled.name} (deleted, with its Job and pod).`);
    await waitUntil('the run to be gone', async () => ((await runsOf('demo')).some((r) => r.metadata.name === cancelled.name) ? undefined : true));

    const left = await interrupt('leave me [hang]', []);
    expect(left.code).toBe(130);
    expect(left.stderr).toContain(`stop it with \`sympozium runs cancel ${left.name}\``);
    expect((await runsOf('demo')).some((r) => r.metadata.name === left.name)).toBe(true);
  });

  it('mcp call: Ctrl-C with --cancel-on-interrupt cancels the run the call started; without it the run is named', async () => {
    const interrupt = (task: string, extra: string[]) => interruptWhileRunning(['mcp', 'demo', 'call', 'ask_agent', '--arg', `task=${task}`, ...extra], task);
    const cancelled = await interrupt('mcp cancel me [hang]', ['--cancel-on-interrupt']);
    expect(cancelled.code).toBe(130);
    expect(cancelled.stderr).toContain(`Cancelled run ${cancelled.name} (deleted, with its Job and pod).`);
    await waitUntil('the MCP run to be gone', async () => ((await runsOf('demo')).some((r) => r.metadata.name === cancelled.name) ? undefined : true));

    const left = await interrupt('mcp leave me [hang]', []);
    expect(left.code).toBe(130);
    expect(left.stderr).toContain(`stop it with \`sympozium runs cancel ${left.name}\``);
    expect((await runsOf('demo')).some((r) => r.metadata.name === left.name)).toBe(true);
  });
});

describe('openPortForward', () => {
  const healthz = (url: string) =>
    new Promise<string>((resolve, reject) => {
      http.get(`${url}/healthz`, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk) => (body += chunk)).on('end', () => resolve(body));
      }).on('error', reject);
    });

  it('follows the Service to a restarted pod, and close() ends the listener', async () => {
    const forward = await openPortForward(kube, { namespace: 'default', service: 'demo-web-endpoint-server', port: 8080 });
    try {
      expect(await healthz(forward.url)).toBe('ok');
      const first = forward.pod;
      // A rollout restart, as `key rotate` does where the proxy reads its key from the environment.
      await kube.mergePatch('/apis/apps/v1/namespaces/default/deployments/demo-web-endpoint-server', {
        spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } },
      });
      await waitUntil('a new running pod', async () => {
        const pods = await kube.list<{ metadata: { name: string; deletionTimestamp?: string }; status?: { phase?: string } }>('/api/v1/namespaces/default/pods', {
          // The server's pods only: task runs have pods of their own now (upstream's Jobs).
          labelSelector: 'sympozium.ai/instance=demo,sympozium.ai/component=agent-server',
        });
        return pods.items.some((pod) => pod.metadata.name !== first && pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp) &&
          !pods.items.some((pod) => pod.metadata.name === first)
          ? true
          : undefined;
      });
      expect(await healthz(forward.url)).toBe('ok');
      expect(forward.pod).not.toBe(first);
    } finally {
      await forward.close();
    }
    await expect(healthz(forward.url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

/** Local ports of the established connections `pid` holds to the API server. */
function clientPortsOf(pid: number): Set<number> {
  const port = new URL(plane.url).port;
  const lines = execFileSync('ss', ['-tnpH', 'state', 'established', `( dport = :${port} )`], { encoding: 'utf8' }).split('\n');
  return new Set(lines.filter((line) => line.includes(`pid=${pid},`)).map((line) => Number(/:(\d+)\s+\S+:\d+\s/.exec(line)?.[1])));
}

/** Peer ports of the API server's established connections. */
function serverPeerPorts(): Set<number> {
  const port = new URL(plane.url).port;
  const lines = execFileSync('ss', ['-tnH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  return new Set(lines.map((line) => Number(/:(\d+)\s*$/.exec(line.trim())?.[1])));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\`]/g, '\\$&');
}
