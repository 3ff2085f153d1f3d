// Benchmark for the Kubernetes API emulator (packages/kube-emulator): requests/s for get, list and patch over
// real HTTP (keep-alive), watch fan-out (100 watchers x 10k events) and heap with 10k objects.
//
// Run from the repository root:   node --expose-gc bench/apiserver.bench.mjs
// (It bundles the TypeScript sources with esbuild under node_modules/.cache first; --expose-gc makes the memory figure
// exact and is optional.) Not a test: it asserts nothing and prints a table.
import { importSource } from './bundle-source.mjs';
import http from 'node:http';

const { startApiServer } = await importSource('packages/kube-emulator/src/index.ts');

const N_OBJECTS = 10_000;
const N_REQUESTS = 5_000;
const CONCURRENCY = 32;
const WATCHERS = 100;
const WATCH_EVENTS = 10_000;

const gc = () => globalThis.gc?.();
const heapMb = () => process.memoryUsage().heapUsed / 1024 / 1024;

const server = await startApiServer({ watchWindow: 20_000 });
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const auth = { Authorization: `Bearer ${server.token}` };

function request(method, path, body, contentType = 'application/json') {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(`${server.url}${path}`, { method, agent, headers: { ...auth, ...(data ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(data) } : {}) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode >= 400 ? reject(new Error(`${method} ${path}: ${res.statusCode} ${Buffer.concat(chunks)}`)) : resolve(Buffer.concat(chunks))));
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function run(count, fn) {
  let next = 0;
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) await fn(next++);
  }));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  // CPU time per operation (client and server share this process) is steadier than wall time on a busy machine.
  return { seconds, rps: count / seconds, cpuUs: (used.user + used.system) / count };
}

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'sympoziuminstances.sympozium.ai' },
  spec: { group: 'sympozium.ai', scope: 'Namespaced', names: { kind: 'SympoziumInstance', plural: 'sympoziuminstances', shortNames: ['si'] },
    versions: [{ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} },
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { model: { type: 'string' }, replicas: { type: 'integer' }, provider: { type: 'string', default: 'openai' } } }, status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } } }] },
};
await request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
await request('POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
await request('POST', '/api/v1/namespaces', { metadata: { name: 'small' } });
const big = '/apis/sympozium.ai/v1alpha1/namespaces/bench/sympoziuminstances';
const small = '/apis/sympozium.ai/v1alpha1/namespaces/small/sympoziuminstances';
const si = (name) => ({ apiVersion: 'sympozium.ai/v1alpha1', kind: 'SympoziumInstance', metadata: { name, labels: { app: 'bench', shard: String(name.length % 4) } }, spec: { model: 'gpt-4o', replicas: 1 } });

const rows = [];
gc();
const heapBefore = heapMb();
const create = await run(N_OBJECTS, (i) => request('POST', big, si(`si-${i}`)));
rows.push(['create (POST, CR with schema)', N_OBJECTS, create.rps, create.cpuUs]);
gc();
const heapAfter = heapMb();
for (let i = 0; i < 100; i++) await request('POST', small, si(`small-${i}`));

const get = await run(N_REQUESTS, (i) => request('GET', `${big}/si-${i % N_OBJECTS}`));
rows.push(['get', N_REQUESTS, get.rps, get.cpuUs]);
const list100 = await run(N_REQUESTS / 5, () => request('GET', small));
rows.push(['list (100 objects)', N_REQUESTS / 5, list100.rps, list100.cpuUs]);
const list10k = await run(40, () => request('GET', `${big}?labelSelector=app%3Dbench`));
rows.push(['list (10k objects, label selector)', 40, list10k.rps, list10k.cpuUs]);
const patch = await run(N_REQUESTS, (i) => request('PATCH', `${big}/si-${i % N_OBJECTS}`, { spec: { replicas: 2 + (i % 7) } }, 'application/merge-patch+json'));
rows.push(['patch (merge)', N_REQUESTS, patch.rps, patch.cpuUs]);
const apply = await run(N_REQUESTS / 5, (i) => request('PATCH', `${big}/si-${i}?fieldManager=bench&force=true`, { ...si(`si-${i}`), spec: { model: 'gpt-4o-mini', replicas: 3 } }, 'application/apply-patch+yaml'));
rows.push(['patch (server-side apply)', N_REQUESTS / 5, apply.rps, apply.cpuUs]);

// Watch fan-out: 100 watchers on the big collection, then 10k MODIFIED events from merge patches.
const currentRv = JSON.parse(String(await request('GET', `${small}?limit=1`))).metadata.resourceVersion;
const counts = new Array(WATCHERS).fill(0);
const watchAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const watchReqs = [];
await Promise.all(Array.from({ length: WATCHERS }, (_, w) => new Promise((resolve, reject) => {
  const req = http.get(`${server.url}${big}?watch=true&resourceVersion=${currentRv}`, { agent: watchAgent, headers: auth }, (res) => {
    resolve();
    res.on('data', (chunk) => {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) counts[w]++;
    });
  });
  req.on('error', reject);
  watchReqs.push(req);
})));
const fanStart = process.hrtime.bigint();
const fanCpu = process.cpuUsage();
const produce = await run(WATCH_EVENTS, (i) => request('PATCH', `${big}/si-${i % N_OBJECTS}`, { metadata: { annotations: { tick: String(i) } } }, 'application/merge-patch+json'));
while (counts.some((c) => c < WATCH_EVENTS)) await new Promise((r) => setTimeout(r, 5));
const fanSeconds = Number(process.hrtime.bigint() - fanStart) / 1e9;
const fanUsed = process.cpuUsage(fanCpu);
rows.push([`patch with ${WATCHERS} watchers attached`, WATCH_EVENTS, produce.rps, produce.cpuUs]);
rows.push([`watch deliveries (${WATCHERS} watchers x ${WATCH_EVENTS})`, WATCHERS * WATCH_EVENTS, (WATCHERS * WATCH_EVENTS) / fanSeconds, (fanUsed.user + fanUsed.system) / (WATCHERS * WATCH_EVENTS)]);
for (const req of watchReqs) req.destroy();

console.log('\nKubernetes API emulator benchmark (node ' + process.version + ', ' + (globalThis.gc ? 'with' : 'without') + ' --expose-gc)\n');
const pad = (s, n) => String(s).padEnd(n);
console.log(pad('operation', 46) + pad('count', 10) + pad('per second', 13) + 'CPU us/op');
console.log('-'.repeat(80));
for (const [name, count, rate, cpuUs] of rows) console.log(pad(name, 46) + pad(count, 10) + pad(Math.round(rate).toLocaleString('en-US'), 13) + cpuUs.toFixed(1));
console.log('-'.repeat(80));
console.log(`heap for ${N_OBJECTS} custom resources: ${(heapAfter - heapBefore).toFixed(1)} MB (${(((heapAfter - heapBefore) * 1024) / N_OBJECTS).toFixed(2)} KB per object, incl. watch event log)`);
console.log(`watch fan-out wall time: ${fanSeconds.toFixed(2)} s for ${WATCH_EVENTS} events x ${WATCHERS} watchers`);

agent.destroy();
watchAgent.destroy();
await server.close();
