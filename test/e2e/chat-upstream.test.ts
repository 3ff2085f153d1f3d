import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runBin } from '../support/bin.js';
import { startUpstreamProxy, type UpstreamProxy } from '../support/upstream-proxy.js';

/**
 * `chat --url` against a server that behaves like the upstream Sympozium proxy, rough edges included, with
 * no cluster at all (HOME is empty and KUBECONFIG unset), as on a laptop testing a public endpoint.
 */

let proxy: UpstreamProxy;
let home: string;

beforeAll(async () => {
  ensureBuilt();
  proxy = await startUpstreamProxy();
  home = mkdtempSync(join(tmpdir(), 'sympozium-chat-home-'));
});
afterAll(async () => {
  await proxy?.stop();
  rmSync(home, { recursive: true, force: true });
});

const env = () => ({ HOME: home, KUBECONFIG: '', SYMPOZIUM_API_KEY: '' });
const chat = (args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) =>
  runBin(['chat', 'demo', '--url', proxy.url, '--key', proxy.apiKey, ...args], { input: options.input, env: { ...env(), ...options.env } });
const chatRequests = (from: number) => proxy.requests.slice(from).filter((r) => r.path === '/v1/chat/completions');

describe('chat --url against the upstream proxy behaviour', () => {
  it('answers a one-shot question, blocking, and names the run behind it', async () => {
    const before = proxy.requests.length;
    const result = await chat(['-m', 'what pods are failing?', '--no-stream']);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('echo: what pods are failing?\n');
    const [request] = chatRequests(before);
    expect(request?.headers['idempotency-key']).toMatch(/^sympozium-[0-9a-f-]{36}$/);
    expect(JSON.parse(request!.body)).toMatchObject({ stream: false, messages: [{ role: 'user', content: 'what pods are failing?' }] });
    // No cluster to ask: the run is named, and the reason for no details is given.
    expect(result.stderr).toContain(`run ${request!.run}`);
  });

  it('streams: one chunk, an empty-delta stop chunk, then [DONE]', async () => {
    const before = proxy.requests.length;
    const result = await chat(['hello there', '--stream']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('echo: hello there\n');
    expect(JSON.parse(chatRequests(before)[0]!.body).stream).toBe(true);
    expect(chatRequests(before)[0]!.headers.accept).toBe('text/event-stream');
  });

  it('parses SSE properly: comments, CRLF, multi-line data, pieces split anywhere, no [DONE]', async () => {
    const chunk = (content: string) => JSON.stringify({ id: 'chatcmpl-demo-web-x1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] });
    const stop = JSON.stringify({ id: 'chatcmpl-demo-web-x1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    // A data field split over two lines is joined with a newline, which JSON takes as whitespace.
    const second = chunk('wörld');
    const comma = second.indexOf(',') + 1;
    const stream =
      `: a comment\r\n\r\n` +
      `data: ${chunk('Héllo, ')}\r\n\r\n` +
      `data: ${second.slice(0, comma)}\r\ndata: ${second.slice(comma)}\r\n\r\n` +
      `event: message\ndata: ${stop}\n\n`;
    const bytes = Buffer.from(stream, 'utf8');
    // Cut every 7 bytes: through the CRLF pairs, the field names and the multi-byte characters.
    const pieces: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 7) pieces.push(bytes.subarray(at, at + 7));
    proxy.enqueue({ kind: 'raw-sse', pieces });
    const result = await chat(['-m', 'x', '--stream']);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('Héllo, wörld\n');
    expect(result.stderr).toContain('run demo-web-x1');
  });

  it('reads the message from stdin when piped', async () => {
    const before = proxy.requests.length;
    const result = await runBin(['chat', 'demo', '--url', proxy.url, '--no-stream'], {
      input: 'summarise this\nplease\n',
      env: { ...env(), SYMPOZIUM_API_KEY: proxy.apiKey },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('echo: summarise this\nplease\n');
    expect(chatRequests(before)[0]!.headers.authorization).toBe(`Bearer ${proxy.apiKey}`);
  });

  it('an agent_error event mid-stream is an error, exit 1', async () => {
    proxy.enqueue({ kind: 'agent-error', message: 'model provider returned 401' });
    const result = await chat(['-m', 'hi', '--stream']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the agent failed while answering: model provider returned 401');
  });

  it('a 200 with "(no response)" is a failure that names the run to look at', async () => {
    const before = proxy.requests.length;
    proxy.enqueue({ kind: 'no-response' });
    const result = await chat(['-m', 'hi', '--no-stream']);
    expect(result.code).toBe(1);
    const run = chatRequests(before)[0]!.run!;
    expect(result.stderr).toContain('the agent gave no answer');
    expect(result.stderr).toContain(`sympozium runs get ${run}`);
    expect(result.stdout).toBe('');
  });

  it('streamed, "(no response)" never reaches stdout as if it were the answer', async () => {
    proxy.enqueue({ kind: 'no-response' });
    const result = await chat(['-m', 'hi']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('the agent gave no answer');
    // An answer that merely starts like the placeholder is printed whole.
    proxy.enqueue({ kind: 'answer', content: '(no) problem at all' });
    const fine = await chat(['-m', 'hi']);
    expect(fine.code).toBe(0);
    expect(fine.stdout).toBe('(no) problem at all\n');
  });

  it('retries a 429 without Retry-After (refused before any run), with the same Idempotency-Key: one run', async () => {
    const before = proxy.requests.length;
    const runsBefore = proxy.runs.size;
    proxy.enqueue({ kind: 'status', status: 429 });
    const result = await chat(['-m', 'retry me', '--no-stream']);
    expect(result.stderr).not.toContain('error:');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('echo: retry me\n');
    const requests = chatRequests(before);
    expect(requests).toHaveLength(2);
    expect(new Set(requests.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect(proxy.runs.size).toBe(runsBefore + 1);
    expect(result.stderr).toContain('rate limited (HTTP 429): trying again');
    expect(result.stderr).toContain('refused before any run started');
  });

  it('with --url and no cluster to tell the release, a 503 or a reset is not retried: a second try could be a second run', async () => {
    for (const failure of [{ kind: 'status' as const, status: 503 }, { kind: 'reset' as const }]) {
      const before = proxy.requests.length;
      proxy.enqueue(failure);
      const result = await chat(['-m', 'once only', '--no-stream']);
      expect(result.code).toBe(1);
      expect(chatRequests(before)).toHaveLength(1);
      expect(result.stderr).toContain('Not retried: the request may have started a run, and this endpoint may not honour Idempotency-Key');
      expect(result.stderr).toContain('sympozium runs list --instance demo');
    }
  });

  it('does not retry 400, 401, 404, 500, or 504', async () => {
    for (const status of [400, 404, 500, 504]) {
      const before = proxy.requests.length;
      proxy.enqueue({ kind: 'status', status });
      const result = await chat(['-m', 'hi', '--no-stream']);
      expect(result.code, `status ${status}`).toBe(1);
      expect(chatRequests(before), `status ${status}`).toHaveLength(1);
      if (status === 504) expect(result.stderr).toContain('did not answer in time (504 Gateway Timeout)');
      if (status === 404) expect(result.stderr).toContain('sympozium enable web-endpoint demo');
      if (status === 500) expect(result.stderr).toContain('the web endpoint reports a failure (500): agent run failed');
    }
  });

  it('--json prints a failure as a document too, with the HTTP status', async () => {
    proxy.enqueue({ kind: 'status', status: 500, message: 'agent run failed' });
    const result = await chat(['-m', 'hi', '--json']);
    expect(result.code).toBe(1);
    const document = JSON.parse(result.stdout);
    expect(document.error).toMatchObject({ status: 500, message: expect.stringContaining('agent run failed') });
  });

  it('401 says the key is wrong and how to get the right one, without printing it', async () => {
    const before = proxy.requests.length;
    const wrong = 'sk-0123456789abcdef0123456789abcdef';
    const result = await runBin(['chat', 'demo', '-m', 'hi', '--url', proxy.url, '--key', wrong, '--no-stream', '--verbose'], { env: env() });
    expect(result.code).toBe(1);
    expect(chatRequests(before)).toHaveLength(1);
    expect(result.stderr).toContain('rejected the API key (401 Unauthorized)');
    expect(result.stderr).toContain('sympozium key show demo');
    expect(result.stderr).toContain('from the --key flag');
    expect(result.stdout + result.stderr).not.toContain(wrong);
    expect(result.stdout + result.stderr).not.toContain(wrong.slice(3, 20));
  });

  it('--verbose says where the endpoint and key came from, and why run details were skipped, never the key', async () => {
    const result = await chat(['-m', 'hi', '--no-stream', '--verbose']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`endpoint: ${proxy.url} (from --url)`);
    expect(result.stderr).toContain('API key: from the --key flag');
    expect(result.stderr).toMatch(/run details skipped: no kubeconfig found/);
    expect(result.stdout + result.stderr).not.toContain(proxy.apiKey);
  });

  it('--json prints the response and the run as one document', async () => {
    const result = await chat(['-m', 'hi', '--json']);
    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(document.response.choices[0].message.content).toBe('echo: hi');
    expect(document.response.id).toBe(`chatcmpl-${document.run.name}`);
    expect(document.run).toMatchObject({ status: null, skipped: expect.stringContaining('no kubeconfig') });
  });

  it('--timeout ends a request that never answers, and says so', async () => {
    proxy.enqueue({ kind: 'hang' });
    const result = await chat(['-m', 'hi', '--no-stream', '--timeout', '1s']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no answer within 1.0s (--timeout)');
    expect(result.stderr).toContain('sympozium runs list --instance demo');
  });

  it('without a key or a cluster, says how to pass one', async () => {
    const result = await runBin(['chat', 'demo', '-m', 'hi', '--url', proxy.url], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no API key for demo');
    expect(result.stderr).toContain('--key');
  });

  it('no message at all is a usage error', async () => {
    const result = await chat([], { input: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no message to send');
  });
});

describe('models and mcp --url', () => {
  it('models lists /v1/models as a table and as JSON', async () => {
    const table = await runBin(['models', 'demo', '--url', proxy.url, '--key', proxy.apiKey], { env: env() });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+OWNED BY\s+CREATED\ngpt-4\.1\s+sympozium\s+2026-01-01T00:00:00Z\n$/);
    const json = await runBin(['models', 'demo', '--url', `${proxy.url}/v1`, '--key', proxy.apiKey, '-o', 'json'], { env: env() });
    expect(JSON.parse(json.stdout).data[0].id).toBe('gpt-4.1');
  });

  it('mcp tools lists the tools; mcp call runs one and prints its text', async () => {
    const tools = await runBin(['mcp', 'demo', 'tools', '--url', proxy.url, '--key', proxy.apiKey], { env: env() });
    expect(tools.stderr).toBe('');
    expect(tools.code).toBe(0);
    expect(tools.stdout).toMatch(/ask_agent\s+task: string\s+Ask the agent to perform a task/);

    const call = await runBin(['mcp', 'demo', 'call', 'ask_agent', '--arg', 'task=list the pods', '--url', proxy.url, '--key', proxy.apiKey], { env: env() });
    expect(call.code).toBe(0);
    expect(call.stdout).toBe('echo: list the pods\n');

    const missing = await runBin(['mcp', 'demo', 'call', 'ask_agent', '--url', proxy.url, '--key', proxy.apiKey], { env: env() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ask_agent needs --arg task=...');

    proxy.enqueue({ kind: 'agent-error', message: 'the run failed' });
    const failed = await runBin(['mcp', 'demo', 'call', 'ask_agent', '--arg', 'task=x', '--url', proxy.url, '--key', proxy.apiKey], { env: env() });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('the run failed\n');
    expect(failed.stderr).toContain('the tool reported an error');

    proxy.enqueue({ kind: 'no-response' });
    const empty = await runBin(['mcp', 'demo', 'call', 'ask_agent', '--arg', 'task=x', '--url', proxy.url, '--key', proxy.apiKey], { env: env() });
    expect(empty.code).toBe(1);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toContain('the agent gave no answer ("(no response)")');
  });
});
