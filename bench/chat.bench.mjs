// What `sympozium chat` adds over curl for the same request, with nothing else in the way: an in-process server
// that answers like the upstream proxy at once (no agent, no cluster), and no kubeconfig, as for a user with
// --url and a key. bench/run.mjs measures the same pairs against the local control plane.
//
//   node bench/chat.bench.mjs [--rounds 15]
//   node bench/chat.bench.mjs --url http://127.0.0.1:PORT --key sk-...   (any endpoint: a local proxy, a real one)
//
// Targets: chat -m hi --no-stream within 1.5x of (curl + a bare node start); streaming's first token within
// 5 ms of curl's after a bare node start. It also times `sympozium --version` to tell the CLI's shared start-up
// from what the chat path itself adds.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'sympozium.js');
const flag = (name) => {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
};
const rounds = Number(flag('--rounds') ?? 15);
const key = flag('--key') ?? 'sk-bench0000000000000000000000000000000000000000';

const chunk = (delta, finish) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-demo-web-bench', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    if (req.headers.authorization !== `Bearer ${key}`) return res.writeHead(401).end();
    if (JSON.parse(body).stream) {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.end(chunk({ role: 'assistant', content: 'hello' }, null) + chunk({}, 'stop') + 'data: [DONE]\n\n');
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ id: 'chatcmpl-demo-web-bench', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }] }));
    }
  });
});
let url = flag('--url');
if (!url) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${server.address().port}`;
}
const home = mkdtempSync(join(tmpdir(), 'sympozium-chat-bench-'));
const env = { ...process.env, HOME: home, KUBECONFIG: '', CI: '1', NO_COLOR: '1' };

function time(command, args, firstPattern) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let first;
    let out = '';
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.on('data', (data) => {
      out += data;
      if (first === undefined && firstPattern.test(out)) first = process.hrtime.bigint();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited ${code}`));
      const ms = (t) => Number(t - started) / 1e6;
      resolve({ total: ms(process.hrtime.bigint()), first: first === undefined ? undefined : ms(first) });
    });
  });
}

const body = (stream) => JSON.stringify({ model: 'm', stream, messages: [{ role: 'user', content: 'hi' }] });
const curlArgs = (stream) => ['-sS', '-N', '-f', '-H', `Authorization: Bearer ${key}`, '-H', 'Content-Type: application/json', '-d', body(stream), `${url}/v1/chat/completions`];
const chatArgs = (stream) => [bin, 'chat', 'demo', '-m', 'hi', stream ? '--stream' : '--no-stream', '--url', url, '--key', key];
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const samples = { node: [], version: [], curl: [], chat: [], curlFirst: [], chatFirst: [] };
try {
  for (let round = -1; round < rounds; round++) {
    // Interleaved, so that machine noise hits every side alike; round -1 warms the file cache.
    const node = await time('node', ['-e', '0'], /^/);
    const version = await time('node', [bin, '--version'], /\d/);
    const curl = await time('curl', curlArgs(false), /./);
    const chat = await time('node', chatArgs(false), /./);
    const curlStream = await time('curl', curlArgs(true), /data: /);
    const chatStream = await time('node', chatArgs(true), /./);
    if (round < 0) continue;
    samples.node.push(node.total);
    samples.version.push(version.total);
    samples.curl.push(curl.total);
    samples.chat.push(chat.total);
    samples.curlFirst.push(curlStream.first);
    samples.chatFirst.push(chatStream.first);
  }
} finally {
  if (server.listening) server.close();
  rmSync(home, { recursive: true, force: true });
}

const m = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
const ratio = m.chat / (m.curl + m.node);
const gap = m.chatFirst - m.curlFirst - m.node;
console.log(`medians over ${rounds} rounds (ms): node -e 0 ${m.node.toFixed(1)}, curl ${m.curl.toFixed(1)}, chat --no-stream ${m.chat.toFixed(1)}`);
console.log(`  chat / (curl + node start) = ${ratio.toFixed(2)}x   (target <= 1.5x)`);
console.log(`first token (ms): curl -N ${m.curlFirst.toFixed(1)}, chat --stream ${m.chatFirst.toFixed(1)}`);
console.log(`  chat's first token - curl's - node start = ${gap.toFixed(1)} ms   (target <= 5 ms)`);
// The CLI's own start-up (commander, output, the command surface) is shared by every command; what chat itself
// adds is the rest.
console.log(`sympozium --version ${m.version.toFixed(1)} ms: chat's own share is ${(m.chat - m.curl - m.version).toFixed(1)} ms blocking, ${(m.chatFirst - m.curlFirst - m.version).toFixed(1)} ms to the first token`);
