// `npm run soak`: a bounded load on `sympozium dev` through the built CLI, as users drive it, reporting
// requests served, errors, the dev server's memory at start, peak and end, and what is left behind once the
// load stops: runs still in progress, pods of finished runs, open watches. Not part of `npm test` (it takes
// minutes); every request goes to 127.0.0.1 and the loop stops by itself.
//
//   node bench/soak.mjs [--seconds 120] [--concurrency 4]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'sympozium.js');
const flag = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const seconds = flag('--seconds', 120);
const concurrency = flag('--concurrency', 4);

const dir = mkdtempSync(join(tmpdir(), 'sympozium-soak-'));
const stateDir = join(dir, 'state');
const env = { ...process.env, CI: '1', NO_COLOR: '1', HOME: dir, KUBECONFIG: join(stateDir, 'kubeconfig'), OPENAI_API_KEY: 'sk-local-soak', SYMPOZIUM_API_KEY: '', SYMPOZIUM_DEV_TIMINGS: 'fast' };

function run(args, input) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

async function must(args) {
  const result = await run(args);
  if (result.code !== 0) throw new Error(`sympozium ${args.join(' ')} failed (${result.code}):\n${result.stderr}`);
  return result;
}

function rssOf(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const mb = (bytes) => (bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MB`);

async function api(info, token, path) {
  const response = await fetch(`${info.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  return response.json();
}

let info;
try {
  mkdirSync(stateDir, { recursive: true });
  await must(['dev', 'up', '--state-dir', stateDir]);
  info = JSON.parse(readFileSync(join(stateDir, 'server.json'), 'utf8'));
  const token = JSON.parse(readFileSync(join(stateDir, 'access.json'), 'utf8')).token;
  await must(['init', 'soak', '--yes', '--api-key-env', 'OPENAI_API_KEY', '--apply']);
  await must(['enable', 'web-endpoint', 'soak', '--rpm', '100000', '--burst', '1000']);

  // The controller's and proxy's own watches are open throughout; a leak is any more than that at the end.
  const before = await api(info, token, '/__emulator/stats');
  const memory = { start: rssOf(info.pid), peak: 0, end: undefined };
  const sampler = setInterval(() => (memory.peak = Math.max(memory.peak, rssOf(info.pid) ?? 0)), 250);
  const counts = { chat: 0, models: 0, runsList: 0, errors: 0 };
  const errors = [];
  const deadline = Date.now() + seconds * 1000;
  const worker = async (index) => {
    for (let round = 0; Date.now() < deadline; round++) {
      // Mostly chats, some reads: what a dashboard and a few users do at once.
      const kind = round % 5 === 4 ? 'models' : round % 5 === 3 ? 'runsList' : 'chat';
      const args = kind === 'chat' ? ['chat', 'soak', `soak ${index}-${round}`, '--no-stream'] : kind === 'models' ? ['models', 'soak'] : ['runs', 'list', '--instance', 'soak', '--limit', '5'];
      const result = await run(args);
      if (result.code === 0) counts[kind] += 1;
      else {
        counts.errors += 1;
        if (errors.length < 5) errors.push(`${args.join(' ')}: ${result.stderr.trim().split('\n')[0]}`);
      }
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
  const elapsed = (Date.now() - started) / 1000;
  clearInterval(sampler);

  // Let the controller finish what the last requests started, then look for what is left behind.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  memory.end = rssOf(info.pid);
  // The sampler may miss the last moments of the load; the end figure counts towards the peak too.
  memory.peak = Math.max(memory.peak, memory.end ?? 0);
  const runs = (await api(info, token, '/apis/sympozium.ai/v1alpha1/namespaces/default/agentruns')).items ?? [];
  const finished = new Set(['Succeeded', 'Failed', 'Skipped']);
  const taskRuns = runs.filter((item) => item.spec?.mode !== 'server');
  const leakedRuns = taskRuns.filter((item) => !finished.has(item.status?.phase));
  const finishedNames = new Set(taskRuns.filter((item) => finished.has(item.status?.phase)).map((item) => item.metadata.name));
  const pods = (await api(info, token, '/api/v1/namespaces/default/pods')).items ?? [];
  const leakedPods = pods.filter((pod) => [...finishedNames].some((name) => pod.metadata.name.startsWith(`${name}-`)) && pod.status?.phase === 'Running');
  const stats = await api(info, token, '/__emulator/stats');
  // What the cluster keeps, as a real one would (finished runs stay until deleted; Jobs for their TTL): the
  // memory figures grow with these, not with the number of requests.
  const jobs = (await api(info, token, '/apis/batch/v1/namespaces/default/jobs')).items ?? [];
  const events = (await api(info, token, '/api/v1/namespaces/default/events')).items ?? [];
  const stored = { runs: runs.length, jobs: jobs.length, pods: pods.length, events: events.length };

  const served = counts.chat + counts.models + counts.runsList;
  const report = {
    seconds: Math.round(elapsed),
    concurrency,
    served,
    perSecond: Number((served / elapsed).toFixed(1)),
    ...counts,
    firstErrors: errors,
    devServerMemory: { start: memory.start, peak: memory.peak, end: memory.end },
    leaked: { runs: leakedRuns.map((item) => item.metadata.name), pods: leakedPods.map((pod) => pod.metadata.name), watches: stats.watches - before.watches },
    openConnections: stats.connections,
    stored,
  };
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'soak.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`soak: ${served} requests in ${report.seconds}s (${report.perSecond}/s, ${concurrency} at once): ${counts.chat} chats, ${counts.models} models, ${counts.runsList} runs list; ${counts.errors} errors`);
  for (const line of errors) console.log(`  error: ${line}`);
  console.log(`dev server memory: start ${mb(memory.start)}, peak ${mb(memory.peak)}, end ${mb(memory.end)}`);
  console.log(`kept by the cluster at the end: ${stored.runs} runs, ${stored.jobs} Jobs, ${stored.pods} pods, ${stored.events} events`);
  console.log(`left behind: ${leakedRuns.length} runs in progress, ${leakedPods.length} pods of finished runs, ${stats.watches - before.watches} watches beyond the ${before.watches} open before the load`);
  if (counts.errors > 0 || leakedRuns.length > 0 || leakedPods.length > 0 || stats.watches > before.watches) process.exitCode = 1;
} finally {
  await run(['dev', 'down', '--state-dir', stateDir]);
  rmSync(dir, { recursive: true, force: true });
}
