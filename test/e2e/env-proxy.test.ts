import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoPrefix } from '../../src/dev/index.js';
import { paths, startPlane, waitFor, type Plane, type Api } from '../dev/helpers.js';
import { binPath, ensureBuilt, repoRoot, runBin } from '../support/bin.js';

/**
 * `env`, `proxy` and `mcp serve --stdio` against `sympozium dev`, each driven by the client it exists for: the
 * real `openai` SDK (from the variables `env` prints, and through the proxy, blocking and streaming) and the
 * MCP SDK (over the proxy's /sse, and as a stdio server it launches itself).
 */

let plane: Plane & { api: Api };
let dir: string;
let kubeconfig: string;
let key: string;

const env = () => ({ KUBECONFIG: kubeconfig, HOME: dir, SYMPOZIUM_API_KEY: '', CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' });
const cli = (args: string[]) => runBin(args, { env: env() });

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sympozium-env-proxy-'));
  plane = await startPlane();
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, plane.kubeconfigYaml());
  await plane.api.create(paths.instances(), {
    apiVersion: 'sympozium.ai/v1alpha1',
    kind: 'SympoziumInstance',
    metadata: { name: 'demo' },
    spec: { agents: { default: { model: 'gpt-4.1' } }, skills: [{ skillPackRef: 'web-endpoint', params: { rate_limit_rpm: '6000', rate_limit_burst: '100' } }] },
  });
  await waitFor(async () => (await plane.api.get(paths.instances('default', 'demo')))?.status?.phase === 'Serving', 'demo Serving');
  key = await plane.api.apiKey('demo');
});

afterAll(async () => {
  await plane?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The proxy's own listener: what a published URL of the instance would be. */
const direct = () => `http://127.0.0.1:${plane.proxyPort('default', 'demo')}`;

describe('sympozium env', () => {
  it('masks the key by default and says how to get it; never shows it on stderr', async () => {
    const result = await cli(['env', 'demo', '--url', direct()]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`export OPENAI_BASE_URL=${direct()}/v1\nexport OPENAI_API_KEY='sk-…${key.slice(-4)}'\n`);
    expect(result.stderr).toContain('--reveal');
    expect(result.stdout + result.stderr).not.toContain(key);
  });

  it('eval of --reveal sets what the openai SDK reads by itself', async () => {
    const script = join(dir, 'client.mjs');
    writeFileSync(
      script,
      `import OpenAI from ${JSON.stringify(join(repoRoot, 'node_modules', 'openai', 'index.mjs'))};
const client = new OpenAI();
const answer = await client.chat.completions.create({ model: process.env.OPENAI_MODEL ?? 'gpt-4.1', messages: [{ role: 'user', content: 'from env' }] });
process.stdout.write(answer.choices[0].message.content + '\\n');`,
    );
    const json = await cli(['env', 'demo', '--url', direct(), '--format', 'json']);
    expect(json.code).toBe(0);
    const vars = JSON.parse(json.stdout);
    expect(vars).toEqual({ OPENAI_BASE_URL: `${direct()}/v1`, OPENAI_API_KEY: key });
    const client = new OpenAI({ baseURL: vars.OPENAI_BASE_URL, apiKey: vars.OPENAI_API_KEY });
    const answer = await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'via env' }] });
    expect(answer.choices[0]!.message.content).toBe(`${echoPrefix} via env`);

    const evaluated = spawn('sh', ['-c', `eval "$(node ${binPath} env demo --url ${direct()} --reveal)" && node ${script}`], { env: { ...process.env, ...env() } });
    let out = '';
    evaluated.stdout.on('data', (chunk) => (out += chunk));
    expect(await new Promise((resolve) => evaluated.on('close', resolve))).toBe(0);
    expect(out).toBe(`${echoPrefix} from env\n`);
  });

  it('without a public URL: the lines a proxy would serve, with the model, and an mcpServers entry', async () => {
    const result = await cli(['env', 'demo', '--port', '9123', '--format', 'dotenv']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('OPENAI_BASE_URL=http://127.0.0.1:9123/v1\nOPENAI_API_KEY=sympozium-proxy\nOPENAI_MODEL=gpt-4.1\n');
    expect(result.stderr).toContain('`sympozium proxy demo --port 9123`');
    const mcp = await cli(['env', 'demo', '--url', direct(), '--mcp', '--reveal']);
    expect(JSON.parse(mcp.stdout)).toEqual({ mcpServers: { 'sympozium-demo': { type: 'sse', url: `${direct()}/sse`, headers: { Authorization: `Bearer ${key}` } } } });
    const fish = await cli(['env', 'demo', '--url', direct(), '--format', 'fish']);
    expect(fish.stdout).toContain(`set -gx OPENAI_API_KEY ${key}\n`);
    const powershell = await cli(['env', 'demo', '--url', direct(), '--format', 'powershell']);
    expect(powershell.stdout).toContain(`$env:OPENAI_BASE_URL = '${direct()}/v1'\n`);
  });
});

interface RunningProxy {
  child: ChildProcess;
  baseURL: string;
  stdout: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function startProxy(args: string[] = []): Promise<RunningProxy> {
  const child = spawn(process.execPath, [binPath, 'proxy', 'demo', '--port', '0', ...args], { env: { ...process.env, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
      if (/OPENAI_API_KEY=.*\n/.test(stdout) || /\}\n$/.test(stdout)) resolve();
    });
    void exited.then((code) => reject(new Error(`proxy exited ${code}: ${stderr}`)));
  });
  const baseURL = /OPENAI_BASE_URL=(\S+)/.exec(stdout)?.[1] ?? '';
  return { child, baseURL, stdout, stderr: () => stderr, exited };
}

async function stop(proxy: RunningProxy): Promise<number | null> {
  proxy.child.kill('SIGINT');
  return proxy.exited;
}

describe('sympozium proxy', () => {
  it('serves the openai SDK, blocking and streaming, and the MCP SDK, adding the key itself; one log line per request', async () => {
    const proxy = await startProxy();
    try {
      expect(proxy.stdout).toMatch(/^export OPENAI_BASE_URL=http:\/\/127\.0\.0\.1:\d+\/v1\nexport OPENAI_API_KEY=sympozium-proxy\nexport OPENAI_MODEL=gpt-4.1\n$/);
      const client = new OpenAI({ baseURL: proxy.baseURL, apiKey: 'anything' });
      const blocking = await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'blocking' }] });
      expect(blocking.choices[0]!.message.content).toBe(`${echoPrefix} blocking`);
      const stream = await client.chat.completions.create({ model: 'gpt-4.1', stream: true, messages: [{ role: 'user', content: 'streaming' }] });
      let text = '';
      let chunks = 0;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        chunks++;
      }
      expect(text).toBe(`${echoPrefix} streaming`);
      // As upstream's proxy streams (internal/webproxy/openai.go): the whole answer in one chunk, then the stop chunk.
      expect(chunks).toBe(2);
      expect((await client.models.list()).data.map((model) => model.id)).toEqual(['gpt-4.1']);

      const mcp = new Client({ name: 'sdk-test', version: '1.0.0' });
      await mcp.connect(new SSEClientTransport(new URL(`${proxy.baseURL.replace(/\/v1$/, '')}/sse`)));
      expect((await mcp.listTools()).tools.map((tool) => tool.name)).toContain('ask_agent');
      const called = await mcp.callTool({ name: 'ask_agent', arguments: { task: 'over mcp' } });
      expect((called.content as { text: string }[])[0]!.text).toContain('over mcp');
      await mcp.close();

      await waitFor(() => proxy.stderr().includes('GET /sse 200'), 'the /sse log line');
      const log = proxy.stderr();
      expect(log).toMatch(new RegExp(`\\d\\d:\\d\\d:\\d\\d POST /v1/chat/completions 200 ${blocking.id.replace('chatcmpl-', '')} \\d`));
      expect(log).toMatch(/POST \/v1\/chat\/completions 200 demo-web-[a-z0-9]+ \d/);
      expect(log).toMatch(/GET \/v1\/models 200 - \d/);
      expect(log).toMatch(/POST \/message 202 - \d/);
      expect(log).not.toContain(key);
      expect(log).not.toContain('sessionId');
    } finally {
      expect(await stop(proxy)).toBe(130);
    }
    expect(proxy.stderr()).toContain('stopping the proxy');
  });

  it('--local-key: generated and printed, and required of local clients; the Host must be loopback', async () => {
    const proxy = await startProxy(['--local-key', '--format', 'json']);
    try {
      const vars = JSON.parse(proxy.stdout);
      expect(vars.OPENAI_API_KEY).toMatch(/^sk-local-[A-Za-z0-9_-]{40,}$/);
      const url = `${vars.OPENAI_BASE_URL}/models`;
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { Authorization: `Bearer ${key}` } })).status).toBe(401);
      const ok = await new OpenAI({ baseURL: vars.OPENAI_BASE_URL, apiKey: vars.OPENAI_API_KEY }).models.list();
      expect(ok.data[0]!.id).toBe('gpt-4.1');
      // fetch cannot set Host: what a DNS-rebinding page sends, by node:http.
      const rebound = await new Promise<number | undefined>((resolve, reject) =>
        http.get(url, { headers: { Authorization: `Bearer ${vars.OPENAI_API_KEY}`, Host: 'attacker.example:80' } }, (res) => resolve(res.resume().statusCode)).on('error', reject),
      );
      expect(rebound).toBe(403);
      const crossSite = await fetch(url, { headers: { Authorization: `Bearer ${vars.OPENAI_API_KEY}`, Origin: 'https://attacker.example' } });
      expect(crossSite.status).toBe(403);
    } finally {
      await stop(proxy);
    }
  });

  it('follows the Service to a new pod with a new key (key rotate) without a restart of its own', async () => {
    const proxy = await startProxy();
    try {
      const client = new OpenAI({ baseURL: proxy.baseURL, apiKey: 'anything', maxRetries: 0 });
      expect((await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'before' }] })).choices[0]!.message.content).toContain('before');
      const rotated = await runBin(['key', 'rotate', 'demo', '--timeout', '30s'], { env: env(), timeoutMs: 40_000 });
      expect(rotated.code).toBe(0);
      const answer = await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'after' }] });
      expect(answer.choices[0]!.message.content).toBe(`${echoPrefix} after`);
      expect(proxy.stderr()).toContain('the endpoint refused the old key: using the new one');
      key = await plane.api.apiKey('demo');
      expect(proxy.stderr()).not.toContain(key);
    } finally {
      await stop(proxy);
    }
  }, 60_000);

  it('a non-loopback --address is warned about', async () => {
    const proxy = await startProxy(['--address', '0.0.0.0']);
    try {
      await waitFor(() => proxy.stderr().includes('warning:'), 'the warning');
      expect(proxy.stderr()).toContain('warning: listening on 0.0.0.0, not loopback: anyone who can reach');
      expect(proxy.stderr()).toContain("can use demo's key");
    } finally {
      await stop(proxy);
    }
  });
});

describe('sympozium mcp serve --stdio', () => {
  it('is an MCP server for the SDK stdio client, and carries on after the proxy pod restarts', async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [binPath, 'mcp', 'demo', 'serve', '--stdio', '--verbose'], env: env() as Record<string, string>, stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (chunk) => (stderr += chunk));
    const client = new Client({ name: 'sdk-stdio-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      expect(client.getServerVersion()?.name).toBe('sympozium-agent');
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['ask_agent']);
      const first = await client.callTool({ name: 'ask_agent', arguments: { task: 'over stdio' } });
      expect((first.content as { text: string }[])[0]!.text).toContain('over stdio');

      // A rollout restart ends the SSE session; the next request opens a new one, initialized again.
      const pods = async () => (await plane.api.list(paths.pods(), 'sympozium.ai/instance=demo,sympozium.ai/component=agent-server')).filter((pod: { status?: { phase?: string }; metadata: { deletionTimestamp?: string } }) => pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp).map((pod: { metadata: { name: string } }) => pod.metadata.name);
      const before = await pods();
      await plane.api.patch(paths.deployments('default', 'demo-web-endpoint-server'), { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } });
      await waitFor(async () => {
        const now = await pods();
        return now.length > 0 && !now.some((name: string) => before.includes(name));
      }, 'a new proxy pod');
      let second: Awaited<ReturnType<typeof client.callTool>> | undefined;
      for (let attempt = 0; attempt < 3 && !second; attempt++) {
        second = await client.callTool({ name: 'ask_agent', arguments: { task: 'after restart' } }).catch(() => undefined);
      }
      expect((second!.content as { text: string }[])[0]!.text).toContain('after restart');

      // A new key: the relay reads the Secret again when the endpoint refuses the one it has.
      const rotated = await runBin(['key', 'rotate', 'demo', '--timeout', '30s'], { env: env(), timeoutMs: 40_000 });
      expect(rotated.code).toBe(0);
      let third: Awaited<ReturnType<typeof client.callTool>> | undefined;
      for (let attempt = 0; attempt < 3 && !third; attempt++) {
        third = await client.callTool({ name: 'ask_agent', arguments: { task: 'after rotate' } }).catch(() => undefined);
      }
      expect((third!.content as { text: string }[])[0]!.text).toContain('after rotate');
      expect(stderr).toContain('the endpoint refused the old key: using the new one');
      expect(stderr).not.toContain(key);
      key = await plane.api.apiKey('demo');
      expect(stderr).not.toContain(key);
    } finally {
      await client.close();
    }
  }, 30_000);

  it('a lost SSE session: requests in flight fail, the next one opens a new session initialized as the first', async () => {
    const streams: http.ServerResponse[] = [];
    const transports = new Map<string, SSEServerTransport>();
    let hold: (() => void) | undefined;
    const server = http.createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://sdk');
      if (req.method === 'GET' && url.pathname === '/sse') {
        const mcp = new McpServer({ name: 'sdk-reference', version: '1.0.0' });
        mcp.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => {
          if (text === 'hang') await new Promise<void>((resolve) => (hold = resolve));
          return { content: [{ type: 'text', text: `echo: ${text}` }] };
        });
        const transport = new SSEServerTransport('/messages', res);
        transports.set(transport.sessionId, transport);
        streams.push(res);
        await mcp.connect(transport);
        return;
      }
      const transport = transports.get(url.searchParams.get('sessionId') ?? '');
      if (req.method === 'POST' && transport) return transport.handlePostMessage(req, res);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const transport = new StdioClientTransport({ command: process.execPath, args: [binPath, 'mcp', 'demo', 'serve', '--stdio', '--url', url, '--key', 'sk-test-relay', '--verbose'], env: env() as Record<string, string>, stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (chunk) => (stderr += chunk));
    const client = new Client({ name: 'sdk-stdio-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      expect((await client.callTool({ name: 'echo', arguments: { text: 'one' } })).content).toEqual([{ type: 'text', text: 'echo: one' }]);
      const inFlight = client.callTool({ name: 'echo', arguments: { text: 'hang' } });
      await waitFor(() => hold, 'the call to reach the server');
      streams[0]!.destroy();
      await expect(inFlight).rejects.toThrow(/session with the endpoint was lost/);
      expect((await client.callTool({ name: 'echo', arguments: { text: 'two' } })).content).toEqual([{ type: 'text', text: 'echo: two' }]);
      expect(stderr).toContain('MCP: session 2 open');
      expect(stderr).toContain('MCP: the new session is initialized as the client initialized the first');
      expect(stderr).not.toContain('sk-test-relay');
    } finally {
      hold?.();
      await client.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('serve without --stdio is a usage error that names the flag', async () => {
    const result = await cli(['mcp', 'demo', 'serve']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('mcp serve needs --stdio');
  });
});
