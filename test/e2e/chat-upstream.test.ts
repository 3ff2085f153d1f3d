import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoPrefix } from '../../src/dev/index.js';
import { ensureBuilt, runBin } from '../support/bin.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { paths, servingInstance, startPlane, type Obj } from '../dev/helpers.js';

/**
 * `chat --url` with no cluster at all (HOME is empty and KUBECONFIG unset), as on a laptop testing a public
 * endpoint. The endpoint is dev's web proxy in release mode, which answers as upstream's does at that release
 * (internal/webproxy/openai.go, mcp.go), reached through a gateway (test/support/gateway.ts) that records what the
 * CLI sent and plays the failures only a gateway produces (a 503 page, a reset, a Retry-After).
 */

type DevPlane = Awaited<ReturnType<typeof startPlane>>;
let v05: DevPlane;
let v010: DevPlane;
let gateway: Gateway;
let gateway010: Gateway;
let key: string;
let key010: string;
let home: string;

/** The proxy's own timeout, shortened from upstream's 10 minutes. */
const timings = { proxyTimeoutMs: 1500 };

beforeAll(async () => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'sympozium-chat-home-'));
  [v05, v010] = await Promise.all([startPlane({ timings }), startPlane({ release: 'v0.10.46', timings })]);
  const params = { rate_limit_rpm: '6000', rate_limit_burst: '200' };
  const [served, served010] = await Promise.all([servingInstance(v05, 'demo', {}, params), servingInstance(v010, 'demo', {}, params)]);
  key = served.key;
  key010 = served010.key;
  gateway = await startGateway(served.baseURL.replace(/\/v1$/, ''));
  gateway010 = await startGateway(served010.baseURL.replace(/\/v1$/, ''));
});
afterAll(async () => {
  await Promise.all([gateway?.stop(), gateway010?.stop()]);
  await Promise.all([v05?.stop(), v010?.stop()]);
  rmSync(home, { recursive: true, force: true });
});

const env = () => ({ HOME: home, KUBECONFIG: '', SYMPOZIUM_API_KEY: '' });
const chat = (args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; release?: 'v0.10.46' } = {}) => {
  const [url, apiKey] = options.release ? [gateway010.url, key010] : [gateway.url, key];
  return runBin(['chat', 'demo', '--url', url, '--key', apiKey, ...args], { input: options.input, env: { ...env(), ...options.env } });
};
const chatRequests = (from: number, through = gateway) => through.seen.slice(from).filter((r) => r.path === '/v1/chat/completions');
const runsOf = async (plane: DevPlane, task: string) => (await plane.api.list(paths.runs(), 'sympozium.ai/source=web-proxy')).filter((run: Obj) => run.spec.task === task);

describe('chat --url against the web proxy', () => {
  it('answers a one-shot question, blocking, and names the run behind it', async () => {
    const before = gateway.seen.length;
    const result = await chat(['-m', 'what pods are failing?', '--no-stream']);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${echoPrefix} what pods are failing?\n`);
    const [request] = chatRequests(before);
    expect(request?.headers['idempotency-key']).toMatch(/^sympozium-[0-9a-f-]{36}$/);
    expect(JSON.parse(request!.body)).toMatchObject({ stream: false, messages: [{ role: 'user', content: 'what pods are failing?' }] });
    // No cluster to ask: the run is named, and the reason for no details is given.
    expect(request!.run).toMatch(/^demo-web-[a-z0-9]{5}$/);
    expect(result.stderr).toContain(`run ${request!.run}`);
  });

  it('streams: one chunk, an empty-delta stop chunk, then [DONE]', async () => {
    const before = gateway.seen.length;
    const result = await chat(['hello there', '--stream']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${echoPrefix} hello there\n`);
    expect(JSON.parse(chatRequests(before)[0]!.body).stream).toBe(true);
    expect(chatRequests(before)[0]!.headers.accept).toBe('text/event-stream');
  });

  it('parses SSE properly: comments, CRLF, multi-line data, pieces split anywhere, no [DONE]', async () => {
    const before = gateway.seen.length;
    gateway.enqueue({ kind: 'reframe-sse' });
    const result = await chat(['-m', 'Héllo, wörld [verbatim]', '--stream']);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('Héllo, wörld\n');
    expect(result.stderr).toContain(`run ${chatRequests(before)[0]!.run}`);
  });

  it('reads the message from stdin when piped', async () => {
    const before = gateway.seen.length;
    const result = await runBin(['chat', 'demo', '--url', gateway.url, '--no-stream'], { input: 'summarise this\nplease\n', env: { ...env(), SYMPOZIUM_API_KEY: key } });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${echoPrefix} summarise this\nplease\n`);
    expect(chatRequests(before)[0]!.headers.authorization).toBe(`Bearer ${key}`);
  });

  it('v0.10.46: an agent_error event (the controller failed the run) is an error, exit 1', async () => {
    const result = await chat(['-m', 'hi [crash]', '--stream'], { release: 'v0.10.46' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the agent failed while answering: Job failed');
  });

  it('a 200 with "(no response)" (the agent runner failed) is a failure that names the run to look at', async () => {
    for (const [through, release] of [[gateway, undefined], [gateway010, 'v0.10.46']] as const) {
      const before = through.seen.length;
      const result = await chat(['-m', 'hi [fail]', '--no-stream'], { release });
      expect(result.code).toBe(1);
      const run = chatRequests(before, through)[0]!.run!;
      expect(result.stderr).toContain('the agent gave no answer');
      expect(result.stderr).toContain(`sympozium runs get ${run}`);
      expect(result.stdout).toBe('');
    }
  });

  it('streamed, a failed runner (a stream with no content) never prints an answer; one that starts like "(no" is printed whole', async () => {
    const result = await chat(['-m', 'hi [fail]']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('the agent gave no answer');
    const fine = await chat(['-m', '(no) problem at all [verbatim]']);
    expect(fine.code).toBe(0);
    expect(fine.stdout).toBe('(no) problem at all\n');
  });

  it("retries the proxy's 429 (no Retry-After, refused before any run), with the same Idempotency-Key: one run", async () => {
    const limited = await servingInstance(v05, 'limited', {}, { rate_limit_rpm: '60', rate_limit_burst: '1' });
    const limitedGateway = await startGateway(limited.baseURL.replace(/\/v1$/, ''));
    try {
      // The only token goes now; the next comes a second later.
      expect((await fetch(`${limited.baseURL}/models`, { headers: { Authorization: `Bearer ${limited.key}` } })).status).toBe(200);
      const result = await runBin(['chat', 'limited', '--url', limitedGateway.url, '--key', limited.key, '-m', 'retry me', '--no-stream'], { env: env() });
      expect(result.stderr).not.toContain('error:');
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${echoPrefix} retry me\n`);
      const requests = chatRequests(0, limitedGateway);
      expect(requests.length).toBeGreaterThanOrEqual(2);
      expect(new Set(requests.map((r) => r.headers['idempotency-key'])).size).toBe(1);
      expect(await runsOf(v05, 'retry me')).toHaveLength(1);
      expect(result.stderr).toContain('rate limited (HTTP 429): trying again');
      expect(result.stderr).toContain('refused before any run started');
    } finally {
      await limitedGateway.stop();
    }
  });

  it('with --url and no cluster to tell the release, a 503 or a reset is not retried: a second try could be a second run', async () => {
    for (const failure of [{ kind: 'status' as const, status: 503 }, { kind: 'reset' as const }]) {
      const before = gateway.seen.length;
      gateway.enqueue(failure);
      const result = await chat(['-m', 'once only', '--no-stream']);
      expect(result.code).toBe(1);
      expect(chatRequests(before)).toHaveLength(1);
      expect(result.stderr).toContain('Not retried: the request may have started a run, and this endpoint may not honour Idempotency-Key');
      expect(result.stderr).toContain('sympozium runs list --instance demo');
    }
  });

  it("does not retry 400, 404, the proxy's 500 (v0.10.46, run failed) or its 504 (v0.5.8, its own timeout)", async () => {
    const cases: { args: string[]; release?: 'v0.10.46'; expected?: string; status: number }[] = [
      { args: ['-m', 'hi'], status: 400 },
      { args: ['-m', 'hi'], status: 404, expected: 'sympozium enable web-endpoint demo' },
      { args: ['-m', 'hi [crash]'], release: 'v0.10.46', status: 500, expected: 'the web endpoint reports a failure (500): agent run failed: Job failed' },
      { args: ['-m', 'hi [crash]'], status: 504, expected: 'did not answer in time (504 Gateway Timeout)' },
    ];
    for (const { args, release, expected, status } of cases) {
      const through = release ? gateway010 : gateway;
      const before = through.seen.length;
      // A 400 only a gateway sends (the CLI's bodies are valid); the 404 is Go's mux behind it, for a path the
      // proxy does not have.
      if (status === 400) through.enqueue({ kind: 'status', status: 400, contentType: 'application/json', body: '{"error":{"message":"bad request","type":"error"}}' });
      const result =
        status === 404
          ? await runBin(['chat', 'demo', '--url', `${gateway.url}/nowhere`, '--key', key, '--no-stream', ...args], { env: env() })
          : await chat([...args, '--no-stream'], { release });
      expect(result.code, `status ${status}`).toBe(1);
      expect(through.seen.slice(before).filter((r) => r.path.endsWith('/v1/chat/completions')), `status ${status}`).toHaveLength(1);
      if (expected) expect(result.stderr, `status ${status}`).toContain(expected);
    }
  });

  it('--json prints a failure as a document too, with the HTTP status', async () => {
    const result = await chat(['-m', 'hi [crash]', '--json'], { release: 'v0.10.46' });
    expect(result.code).toBe(1);
    const document = JSON.parse(result.stdout);
    expect(document.error).toMatchObject({ status: 500, message: expect.stringContaining('agent run failed: Job failed') });
  });

  it('401 says the key is wrong and how to get the right one, without printing it', async () => {
    const before = gateway.seen.length;
    const wrong = 'sk-0123456789abcdef0123456789abcdef';
    const result = await runBin(['chat', 'demo', '-m', 'hi', '--url', gateway.url, '--key', wrong, '--no-stream', '--verbose'], { env: env() });
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
    expect(result.stderr).toContain(`endpoint: ${gateway.url} (from --url)`);
    expect(result.stderr).toContain('API key: from the --key flag');
    expect(result.stderr).toMatch(/run details skipped: no kubeconfig found/);
    expect(result.stdout + result.stderr).not.toContain(key);
  });

  it('--json prints the response and the run as one document', async () => {
    const result = await chat(['-m', 'hi', '--json']);
    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(document.response.choices[0].message.content).toBe(`${echoPrefix} hi`);
    expect(document.response.id).toBe(`chatcmpl-${document.run.name}`);
    expect(document.run).toMatchObject({ status: null, skipped: expect.stringContaining('no kubeconfig') });
  });

  it('--timeout ends a request that never answers, and says so', async () => {
    const result = await chat(['-m', 'hi [hang]', '--no-stream', '--timeout', '1s']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no answer within 1.0s (--timeout)');
    expect(result.stderr).toContain('sympozium runs list --instance demo');
  });

  it('without a key or a cluster, says how to pass one', async () => {
    const result = await runBin(['chat', 'demo', '-m', 'hi', '--url', gateway.url], { env: env() });
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
    const table = await runBin(['models', 'demo', '--url', gateway.url, '--key', key], { env: env() });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+OWNED BY\s+CREATED\ngpt-4\.1\s+sympozium\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
    const json = await runBin(['models', 'demo', '--url', `${gateway.url}/v1`, '--key', key, '-o', 'json'], { env: env() });
    expect(JSON.parse(json.stdout).data[0].id).toBe('gpt-4.1');
  });

  it('mcp tools lists the tools; mcp call runs one and prints its text; failures as mcp.go reports them', async () => {
    const mcp = (args: string[], release?: 'v0.10.46') => runBin(['mcp', 'demo', ...args, '--url', release ? gateway010.url : gateway.url, '--key', release ? key010 : key], { env: env() });
    const tools = await mcp(['tools']);
    expect(tools.stderr).toBe('');
    expect(tools.code).toBe(0);
    expect(tools.stdout).toMatch(/ask_agent\s+task: string\s+Send a task to the demo agent/);

    const call = await mcp(['call', 'ask_agent', '--arg', 'task=list the pods']);
    expect(call.code).toBe(0);
    expect(call.stdout).toBe(`${echoPrefix} list the pods\n`);

    const missing = await mcp(['call', 'ask_agent']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ask_agent needs --arg task=...');

    // Upstream never sends isError: a run the controller failed is a JSON-RPC error -32603 (v0.10.46).
    const failed = await mcp(['call', 'ask_agent', '--arg', 'task=x [crash]'], 'v0.10.46');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toContain('agent run failed: Job failed');

    const empty = await mcp(['call', 'ask_agent', '--arg', 'task=x [fail]']);
    expect(empty.code).toBe(1);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toContain('the agent gave no answer ("(no response)")');
  });
});
