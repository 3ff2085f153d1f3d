// `runs tail -o json` throughput: 10,000 AgentRun status changes through one watch stream, measured from the
// first event sent to the 10,000th line printed, with the tail process's peak memory (VmHWM).
// Target (issue 5): >= 20,000 events/s and < 150 MB.
//
//   npm run build && node bench/cluster.bench.mjs [--events 10000] [--runs 200]
//
// The API server here is a stub that serves one list and one pre-built watch stream, so the number measures
// the CLI (parsing, dedup, formatting, stdout), not an emulator.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const valueOf = (flag, fallback) => {
  const index = args.indexOf(flag);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const events = valueOf('--events', 10_000);
const runCount = valueOf('--runs', 200);
const bin = process.env.SYMPOZIUM_BIN ?? fileURLToPath(new URL('../bin/sympozium.js', import.meta.url));

const phases = ['Running', 'Succeeded', 'Pending', 'Failed'];
const runObject = (index, rv, phase) => ({
  apiVersion: 'sympozium.ai/v1alpha1',
  kind: 'AgentRun',
  metadata: {
    name: `bench-web-${index}`,
    namespace: 'default',
    resourceVersion: String(rv),
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: { 'sympozium.ai/instance': 'bench', 'sympozium.ai/source': 'web-proxy' },
  },
  spec: { instanceRef: 'bench', agentId: 'primary', sessionKey: 's', task: 'a task of ordinary length for a chat request', model: { provider: 'openai', model: 'gpt-4.1', authSecretRef: '' } },
  status: { phase, startedAt: '2026-01-01T00:00:01Z', tokenUsage: { inputTokens: 12, outputTokens: 34, totalTokens: 46 } },
});

// Each event moves one run to the next phase, so every event is a transition the tail prints.
const stream = [];
for (let i = 0; i < events; i += 1) {
  const run = i % runCount;
  const phase = phases[(Math.floor(i / runCount) + 1) % phases.length];
  stream.push(`${JSON.stringify({ type: 'MODIFIED', object: runObject(run, 1000 + i, phase) })}\n`);
}
const streamBody = stream.join('');
const list = JSON.stringify({
  apiVersion: 'sympozium.ai/v1alpha1',
  kind: 'AgentRunList',
  metadata: { resourceVersion: '999' },
  items: Array.from({ length: runCount }, (_, index) => runObject(index, 500 + index, 'Pending')),
});

let streamStartedAt;
let watches = 0;
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (!url.pathname.endsWith('/agentruns')) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","code":404}');
    return;
  }
  if (url.searchParams.get('watch') !== 'true') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(list);
    return;
  }
  watches += 1;
  res.writeHead(200, { 'content-type': 'application/json' });
  if (watches === 1) {
    streamStartedAt = process.hrtime.bigint();
    res.end(streamBody);
  }
  // Later watches (the resume after the stream ends) stay open and quiet.
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const dir = mkdtempSync(join(tmpdir(), 'sympozium-bench-'));
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(
  kubeconfig,
  `apiVersion: v1\nkind: Config\nclusters:\n- name: b\n  cluster:\n    server: http://127.0.0.1:${port}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: b\n  context: {cluster: b, user: b, namespace: default}\ncurrent-context: b\nusers:\n- name: b\n  user: {token: t}\n`,
);

const child = spawn(process.execPath, [bin, 'runs', 'tail', 'bench', '-o', 'json'], {
  env: { ...process.env, KUBECONFIG: kubeconfig, CI: '1' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let lines = 0;
let peakKb = 0;
const result = await new Promise((resolve) => {
  child.stdout.on('data', (chunk) => {
    for (let i = 0; i < chunk.length; i += 1) if (chunk[i] === 10) lines += 1;
    if (lines >= events) {
      const endedAt = process.hrtime.bigint();
      try {
        peakKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
      } catch {
        peakKb = 0;
      }
      resolve(Number(endedAt - streamStartedAt) / 1e6);
      child.kill('SIGINT');
    }
  });
});
await new Promise((resolve) => child.on('close', resolve));
server.close();
rmSync(dir, { recursive: true, force: true });
const perSecond = Math.round((events / result) * 1000);
const ok = perSecond >= 20_000 && peakKb / 1024 < 150;
console.log(
  `runs tail -o json: ${events} transitions in ${result.toFixed(0)} ms = ${perSecond} events/s; peak RSS ${(peakKb / 1024).toFixed(0)} MB ` +
    `(target >= 20000 events/s, < 150 MB): ${ok ? 'met' : 'NOT met'}`,
);
