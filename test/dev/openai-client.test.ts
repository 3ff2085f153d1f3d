import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { echoPrefix } from '../../src/dev/index.js';
import { paths, servingInstance, startPlane, waitFor, type Obj } from './helpers.js';

/**
 * The web proxy through a client we did not write: the `openai` npm package (retries off, so every status is
 * seen as the proxy sent it), plus raw HTTP for the wire details the SDK hides.
 */

let plane: Awaited<ReturnType<typeof startPlane>>;
let endpoint: { baseURL: string; key: string };
let client: OpenAI;

beforeAll(async () => {
  plane = await startPlane();
  endpoint = await servingInstance(plane, 'chatty', { memory: { enabled: true, systemPrompt: 'You are the chatty agent.' } }, { rate_limit_rpm: '6000', rate_limit_burst: '100' });
  client = new OpenAI({ baseURL: endpoint.baseURL, apiKey: endpoint.key, maxRetries: 0 });
});
afterAll(async () => {
  await plane?.stop();
});

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${endpoint.baseURL.replace(/\/v1$/, '')}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${endpoint.key}`, 'Content-Type': 'application/json', ...headers },
    body,
  });

describe('OpenAI-compatible API', () => {
  test('models.list names the instance model', async () => {
    const models = await client.models.list();
    expect(models.data).toEqual([expect.objectContaining({ id: 'gpt-4.1', object: 'model', owned_by: 'sympozium' })]);
  });

  test('chat.completions.create (blocking) answers from a Succeeded task run', async () => {
    const completion = await client.chat.completions.create({
      model: 'ignored',
      messages: [
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'Hello from the openai package' },
      ],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-4.1');
    expect(completion.choices[0]!.message.content).toBe(`${echoPrefix} Hello from the openai package`);
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.id).toMatch(/^chatcmpl-chatty-web-[a-z0-9]{5}$/);
    const run = await plane.api.get(paths.runs('default', completion.id.slice('chatcmpl-'.length)));
    expect(run.status.phase).toBe('Succeeded');
    expect(run.spec.systemPrompt).toBe('You are the chatty agent.\n\nAnswer in French.');
    expect(completion.usage).toEqual({
      prompt_tokens: run.status.tokenUsage.inputTokens,
      completion_tokens: run.status.tokenUsage.outputTokens,
      total_tokens: run.status.tokenUsage.totalTokens,
    });
  });

  test('chat.completions.create with stream: true delivers several chunks, a stop chunk and usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'ignored',
      messages: [{ role: 'user', content: 'stream me a reasonably long answer please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const contents: string[] = [];
    const finishes: (string | null)[] = [];
    const ids = new Set<string>();
    let usage: Obj;
    for await (const chunk of stream) {
      ids.add(chunk.id);
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      if (choice.delta.content) contents.push(choice.delta.content);
      finishes.push(choice.finish_reason);
    }
    expect(contents.length).toBeGreaterThan(2);
    expect(contents.join('')).toBe(`${echoPrefix} stream me a reasonably long answer please`);
    expect(finishes.at(-1)).toBe('stop');
    expect(ids.size).toBe(1);
    expect(usage.total_tokens).toBeGreaterThan(0);
  });

  test('the raw stream ends with a stop chunk with an empty delta, then [DONE]', async () => {
    const response = await post('/v1/chat/completions', JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'raw' }] }));
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = (await response.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const stop = JSON.parse(events.at(-2)!.slice('data: '.length));
    expect(stop).toMatchObject({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
  });

  test('a wrong key is a 401 AuthenticationError; a missing key is a 401 with the contract error body', async () => {
    const wrong = new OpenAI({ baseURL: endpoint.baseURL, apiKey: 'sk-wrong', maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toMatchObject({ status: 401 });
    await expect(wrong.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    // upstream's authMiddleware texts (internal/webproxy/proxy.go).
    const response = await fetch(`${endpoint.baseURL}/models`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { message: 'missing or invalid Authorization header', type: 'error' } });
    const wrongKey = await fetch(`${endpoint.baseURL}/models`, { headers: { Authorization: 'Bearer sk-wrong' } });
    expect(await wrongKey.json()).toEqual({ error: { message: 'invalid API key', type: 'error' } });
  });

  test('bad bodies are 400s with a message', async () => {
    const cases: [string, string][] = [
      ['{not json', 'invalid JSON'],
      ['{}', 'messages'],
      [JSON.stringify({ messages: [] }), 'messages'],
      [JSON.stringify({ messages: [{ role: 'system', content: 'only system' }] }), 'no user message'],
      [JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'text', text: 'parts' }] }] }), 'content must be a string'],
    ];
    for (const [body, message] of cases) {
      const response = await post('/v1/chat/completions', body);
      expect(response.status, body).toBe(400);
      const parsed = (await response.json()) as Obj;
      expect(parsed.error.type).toBe('error');
      expect(parsed.error.message).toContain(message);
    }
    await expect(client.chat.completions.create({ model: 'x', messages: [] })).rejects.toMatchObject({ status: 400 });
  });

  test('a failed run is a 500 with the run error (blocking) and an agent_error event without [DONE] (stream)', async () => {
    const error = await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'please [fail]' }] }).catch((caught) => caught);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error.message).toContain('[fail]');
    const runs = await plane.api.list(paths.runs(), 'sympozium.ai/source=web-proxy');
    expect(runs.some((run: Obj) => run.spec.task === 'please [fail]' && run.status.phase === 'Failed')).toBe(true);

    const stream = await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'stream [fail]' }], stream: true });
    await expect((async () => {
      for await (const _chunk of stream) {
        // drain
      }
    })()).rejects.toThrow(/\[fail\]/);

    const raw = await (await post('/v1/chat/completions', JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'raw [fail]' }] }))).text();
    expect(raw).toContain('"type":"agent_error"');
    expect(raw).not.toContain('[DONE]');
  });

  test("v0.5.8's proxy ignores Idempotency-Key: the same request twice is two runs", async () => {
    const body = JSON.stringify({ messages: [{ role: 'user', content: 'only once' }] });
    const first = (await (await post('/v1/chat/completions', body, { 'Idempotency-Key': 'abc-1' })).json()) as Obj;
    const second = (await (await post('/v1/chat/completions', body, { 'Idempotency-Key': 'abc-1' })).json()) as Obj;
    expect(second.id).not.toBe(first.id);
    const runs = await plane.api.list(paths.runs(), 'sympozium.ai/source=web-proxy');
    expect(runs.filter((run: Obj) => run.spec.task === 'only once')).toHaveLength(2);
  });

  test('only GET /healthz needs no key; /health and unknown paths are behind it, then Go mux 404/405', async () => {
    const base = endpoint.baseURL.replace(/\/v1$/, '');
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok');
    expect((await fetch(`${base}/health`)).status).toBe(401);
    const auth = { Authorization: `Bearer ${endpoint.key}` };
    const unknown = await fetch(`${base}/health`, { headers: auth });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe('404 page not found\n');
    const wrongMethod = await fetch(`${base}/v1/chat/completions`, { headers: auth });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(await wrongMethod.text()).toBe('Method Not Allowed\n');
  });

  test('a rotated key works at once, without restarting the proxy', async () => {
    const port = plane.proxyPort('default', 'chatty');
    const rotated = `sk-${'ab'.repeat(24)}`;
    await plane.api.patch(paths.secrets('default', 'chatty-web-proxy-key'), { data: { 'api-key': Buffer.from(rotated).toString('base64') } });
    const fresh = new OpenAI({ baseURL: endpoint.baseURL, apiKey: rotated, maxRetries: 0 });
    await waitFor(() => fresh.models.list().then(() => true, () => false), 'the rotated key accepted');
    await expect(client.models.list()).rejects.toMatchObject({ status: 401 });
    expect(plane.proxyPort('default', 'chatty')).toBe(port);
    endpoint = { ...endpoint, key: rotated };
    client = fresh;
  });
});

describe('rate limit', () => {
  test('429 without Retry-After (upstream sends none) once the burst is spent; new params reconfigure the running proxy', async () => {
    const limited = await servingInstance(plane, 'limited', {}, { rate_limit_rpm: '1', rate_limit_burst: '2' });
    const sdk = new OpenAI({ baseURL: limited.baseURL, apiKey: limited.key, maxRetries: 0 });
    await sdk.models.list();
    await sdk.models.list();
    const error = await sdk.models.list().catch((caught) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const response = await fetch(`${limited.baseURL}/models`, { headers: { Authorization: `Bearer ${limited.key}` } });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBeNull();
    expect((await response.json()) as Obj).toEqual({ error: { message: 'rate limit exceeded', type: 'error' } });

    const port = plane.proxyPort('default', 'limited');
    await plane.api.patch(paths.instances('default', 'limited'), { spec: { skills: [{ skillPackRef: 'web-endpoint', params: { rate_limit_rpm: '6000', rate_limit_burst: '50' } }] } });
    await waitFor(() => sdk.models.list().then(() => true, () => false), 'requests allowed again after raising the limit');
    expect(plane.proxyPort('default', 'limited')).toBe(port);
    const run = await plane.api.get(paths.runs('default', 'limited-web-endpoint'));
    expect(run.spec.skills[0].params).toMatchObject({ rate_limit_rpm: '6000', rate_limit_burst: '50' });
  });
});

describe('timeouts', () => {
  test('a run that outlives the proxy run timeout fails with "timeout" and the request gets a 504', async () => {
    const short = await startPlane({ timings: { webRunTimeout: '300ms' } });
    try {
      const served = await servingInstance(short, 'slow');
      const sdk = new OpenAI({ baseURL: served.baseURL, apiKey: served.key, maxRetries: 0 });
      const error = await sdk.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'never answer [hang]' }] }).catch((caught) => caught);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(error.status).toBe(504);
      const runs = await short.api.list(paths.runs(), 'sympozium.ai/source=web-proxy');
      expect(runs[0].spec.timeout).toBe('300ms');
      expect(runs[0].status).toMatchObject({ phase: 'Failed', error: 'timeout' });
    } finally {
      await short.stop();
    }
  });
});
