// Benchmark for the local web proxy (src/dev/webproxy): chat requests per second through the proxy with the
// echo model, p50/p99 latency, and the overhead per request over a direct HTTP echo server answering the same
// OpenAI-shaped JSON. Each proxied request is a full round: an AgentRun created through the API server, picked
// up by the controller's watch, run by the echo agent (stage delays set to 0), and read back through the watch.
//
// Run from the repository root:   node bench/webproxy.bench.mjs [--requests 300] [--concurrency 1,8]
// Not a test: it asserts nothing and prints a table.
import { importSource } from './bundle-source.mjs';
import http from 'node:http';

const args = process.argv.slice(2);
const valueOf = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const REQUESTS = Number(valueOf('--requests') ?? 300);
const CONCURRENCY = (valueOf('--concurrency') ?? '1,8').split(',').map(Number);

const { startLocalControlPlane } = await importSource('src/dev/index.ts');

const plane = await startLocalControlPlane({ timings: { instanceReconcileMs: 0, runStartMs: 0, echoChunkMs: 0, podReadyMs: 0 } });
const api = (method, path, body) =>
  fetch(`${plane.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${plane.apiServer.token}`, 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body),
  }).then((response) => response.json());

await api('POST', '/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances', {
  apiVersion: 'sympozium.ai/v1alpha1',
  kind: 'SympoziumInstance',
  metadata: { name: 'bench' },
  spec: {
    agents: { default: { model: 'gpt-4.1' } },
    skills: [{ skillPackRef: 'web-endpoint', params: { rate_limit_rpm: '100000000', rate_limit_burst: '1000000' } }],
  },
});
for (;;) {
  const instance = await api('GET', '/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances/bench');
  if (instance.status?.phase === 'Serving') break;
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const secret = await api('GET', '/api/v1/namespaces/default/secrets/bench-web-endpoint-key');
const key = Buffer.from(secret.data['api-key'], 'base64').toString();
const proxyPort = plane.proxyPort('default', 'bench');

// The baseline: the same request shape answered at once by a plain HTTP server.
const direct = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const task = JSON.parse(body).messages.at(-1).content;
    const text = JSON.stringify({
      id: 'chatcmpl-direct',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: 'gpt-4.1',
      choices: [{ index: 0, message: { role: 'assistant', content: `echo: ${task}` }, finish_reason: 'stop' }],
    });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  });
});
await new Promise((resolve) => direct.listen(0, '127.0.0.1', resolve));
const directPort = direct.address().port;

function chat(agent, port, index) {
  const body = JSON.stringify({ messages: [{ role: 'user', content: `benchmark request ${index}` }] });
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(
      { host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function measure(port, concurrency) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  for (let index = 0; index < 20; index += 1) await chat(agent, port, index); // warm-up
  const latencies = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < REQUESTS) latencies.push(await chat(agent, port, next++));
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { rps: REQUESTS / seconds, p50: at(0.5), p99: at(0.99) };
}

const rows = [];
for (const concurrency of CONCURRENCY) {
  const viaProxy = await measure(proxyPort, concurrency);
  const baseline = await measure(directPort, concurrency);
  rows.push({ concurrency, viaProxy, baseline });
}

const fmt = (n, digits = 1) => n.toFixed(digits).padStart(8);
console.log(`\nweb proxy: ${REQUESTS} blocking chat requests per row (echo model, stage delays 0), node ${process.version}\n`);
console.log('concurrency |   proxy req/s   p50 ms   p99 ms |  direct req/s   p50 ms   p99 ms | overhead p50 ms');
for (const { concurrency, viaProxy, baseline } of rows) {
  console.log(
    `${String(concurrency).padStart(11)} | ${fmt(viaProxy.rps)}     ${fmt(viaProxy.p50, 2)} ${fmt(viaProxy.p99, 2)} | ${fmt(baseline.rps)}    ${fmt(baseline.p50, 2)} ${fmt(baseline.p99, 2)} | ${fmt(viaProxy.p50 - baseline.p50, 2)}`,
  );
}

direct.close();
await plane.stop();
