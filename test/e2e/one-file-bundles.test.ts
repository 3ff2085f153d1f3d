import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot, runBin } from '../support/bin.js';
import { loadedModules } from '../support/loaded-modules.js';

/**
 * `sympozium chat|key|run …` run from one-file bundles, dist/<command>.js (scripts/build.mjs says why): the
 * files they load, that other lines still reach them through dist/main.js, and that what a bundle loads lazily
 * (YAML output) comes from dist/vendor/. The chat endpoint is a local server answering as upstream's proxy
 * does; what key and run do against a cluster is tested through the same bin in the other suites.
 */

let server: Server;
let url: string;
const env = { KUBECONFIG: '/nonexistent/kubeconfig', SYMPOZIUM_API_KEY: '' };

beforeAll(async () => {
  ensureBuilt();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const chunk = (content: string, finish: string | null) =>
        `data: ${JSON.stringify({ id: 'chatcmpl-demo-web-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;
      if (JSON.parse(body).stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`${chunk('hello from the bundle', null)}${chunk('', 'stop')}data: [DONE]\n\n`);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'chatcmpl-demo-web-1', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: 'hello from the bundle' }, finish_reason: 'stop' }] }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => server?.close());

const ours = (files: string[]) => files.filter((file) => file.startsWith(repoRoot)).map((file) => file.slice(repoRoot.length)).sort();

describe('the one-file bundles', () => {
  it('a streamed chat loads two files of ours: the bin and dist/chat.js, which holds no heavy dependency', async () => {
    const line = ['chat', 'demo', '-m', 'hi', '--stream', '--url', url, '--key', 'k'];
    const result = await runBin(line, { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('hello from the bundle\n');
    expect(ours(await loadedModules(line, env))).toEqual(['bin/sympozium.js', 'dist/chat.js']);
    const bundle = readFileSync(`${repoRoot}dist/chat.js`, 'utf8');
    // The bundle names each source it holds in a comment: commander is there, the heavy ones must not be.
    expect(bundle).toContain('// node_modules/commander/');
    for (const heavy of ['node_modules/@kubernetes/client-node', 'node_modules/inquirer', 'node_modules/ora/', 'node_modules/yaml/', 'node_modules/socks/']) {
      expect(bundle, heavy).not.toContain(`// ${heavy}`);
    }
  });

  it('chat after a global flag runs through dist/main.js, with the same answer', async () => {
    const line = ['-q', 'chat', 'demo', '-m', 'hi', '--no-stream', '--url', url, '--key', 'k'];
    const result = await runBin(line, { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('hello from the bundle\n');
    const files = ours(await loadedModules(line, env));
    expect(files).toContain('dist/main.js');
    expect(files).not.toContain('dist/chat.js');
  });

  it('what chat.js loads lazily comes from dist/vendor/: -o yaml', async () => {
    const line = ['chat', 'demo', '-m', 'hi', '--no-stream', '--url', url, '--key', 'k', '-o', 'yaml'];
    const result = await runBin(line, { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^response:\n {2}id: chatcmpl-demo-web-1\n/);
    expect(result.stdout).toContain('content: hello from the bundle');
    const files = ours(await loadedModules(line, env));
    expect(files).toContain('dist/vendor/yaml.js');
    expect(files.filter((file) => file.startsWith('dist/chunks/') || file === 'dist/main.js')).toEqual([]);
  });

  it('bin routes exactly the bundles the build makes (scripts/build.mjs oneFileCommands)', () => {
    const routed = /const oneFile = \[([^\]]*)\]/.exec(readFileSync(`${repoRoot}bin/sympozium.js`, 'utf8'))?.[1];
    expect(routed, 'bin/sympozium.js lists its one-file commands').toBeDefined();
    const names = [...routed!.matchAll(/'([a-z-]+)'/g)].map((match) => match[1]).sort();
    const built = readdirSync(`${repoRoot}dist`).filter((file) => file.endsWith('.js') && !['main.js', 'dev-server.js'].includes(file)).map((file) => file.slice(0, -3)).sort();
    expect(names).toEqual(built);
    expect(names).toEqual(['chat', 'key', 'run']);
  });

  it('help and usage errors are the same from a bundle as from main.js, and each bundle is one file', async () => {
    const cases = [
      { command: ['chat'], usage: 'Usage: sympozium chat [options] <instance> [message]', missing: "missing required argument 'instance'" },
      { command: ['key', 'show'], usage: 'Usage: sympozium key show [options] <instance>', missing: "missing required argument 'instance'" },
      { command: ['run'], usage: 'Usage: sympozium run [options] <instance> [task]', missing: "missing required argument 'instance'" },
    ];
    for (const { command, usage, missing } of cases) {
      const [bundle] = command;
      const ownFiles = ours(await loadedModules([...command, '--help'], env));
      expect(ownFiles, bundle).toEqual(['bin/sympozium.js', `dist/${bundle}.js`]);
      for (const prefix of [[], ['-q']]) {
        const help = await runBin([...prefix, ...command, '--help']);
        expect(help.code, help.stderr).toBe(0);
        expect(help.stdout).toContain(usage);
        const refused = await runBin([...prefix, ...command]);
        expect(refused.code).toBe(2);
        expect(refused.stderr).toContain(missing);
      }
    }
  });
});
