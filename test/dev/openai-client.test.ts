import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { echoPrefix } from '../../src/dev/index.js';
import type { Release } from '../../src/sympozium/releases.js';
import { paths, servingInstance, startPlane, waitFor, type Obj } from './helpers.js';

/**
 * The web proxy of each release through a client we did not write (the `openai` package, retries off, so every
 * status is seen as the proxy sent it) and raw HTTP for the wire details the SDK hides. What it must match is
 * upstream's internal/webproxy/openai.go and proxy.go at v0.5.8 (4a6f5f1) and v0.10.46 (8b74fa0).
 */

const releases: Release[] = ['v0.5.8', 'v0.10.46'];
/** The proxy's own timeout, shortened from upstream's 10 minutes; jobEndMs long enough to see the answer first. */
const timings = { proxyTimeoutMs: 1500, jobEndMs: 400, echoChunkMs: 20 };

describe.each(releases)('the web proxy of %s', (release) => {
  let plane: Awaited<ReturnType<typeof startPlane>>;
  let endpoint: { baseURL: string; key: string };
  let client: OpenAI;
  const v010 = release === 'v0.10.46';

  beforeAll(async () => {
    plane = await startPlane({ release, timings });
    endpoint = await servingInstance(plane, 'chatty', { memory: { enabled: true, systemPrompt: 'You are the chatty agent.' } }, { rate_limit_rpm: '6000', rate_limit_burst: '200' });
    client = new OpenAI({ baseURL: endpoint.baseURL, apiKey: endpoint.key, maxRetries: 0 });
  });
  afterAll(async () => {
    await plane?.stop();
  });

  const base = () => endpoint.baseURL.replace(/\/v1$/, '');
  const post = (body: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${base()}/v1/chat/completions`, { method: 'POST', headers: { Authorization: `Bearer ${endpoint.key}`, 'Content-Type': 'application/json', ...headers }, body, signal });
  const ask = (content: string, stream = false) => post(JSON.stringify({ model: 'x', stream, messages: [{ role: 'user', content }] }));
  const webRuns = async (task: string) => (await plane.api.list(paths.runs(), 'sympozium.ai/source=web-proxy')).filter((run: Obj) => run.spec.task === task);
  const events = (text: string) => text.split('\n\n').filter(Boolean);

  test('models.list names the instance model', async () => {
    const models = await client.models.list();
    expect(models.data).toEqual([expect.objectContaining({ id: 'gpt-4.1', object: 'model', owned_by: 'sympozium' })]);
  });

  test('blocking: the body upstream writes (no usage), sent on the completion event, before the run is Succeeded', async () => {
    const completion = await client.chat.completions.create({
      model: 'ignored',
      messages: [
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'Hello from the openai package' },
      ],
    });
    const runName = completion.id.slice('chatcmpl-'.length);
    // The agent's result reached the proxy through its ipc-bridge; the Job has not ended, so the run is Running.
    expect((await plane.api.get(paths.runs('default', runName))).status.phase).toBe('Running');
    expect(completion).toEqual({
      id: expect.stringMatching(/^chatcmpl-chatty-web-[a-z0-9]{5}$/),
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'gpt-4.1',
      choices: [{ index: 0, message: { role: 'assistant', content: `${echoPrefix} Hello from the openai package` }, finish_reason: 'stop' }],
    });
    const run = await waitFor(async () => {
      const current = await plane.api.get(paths.runs('default', runName));
      return current.status.phase === 'Succeeded' ? current : undefined;
    }, 'the run Succeeded after its Job');
    expect(run.spec.systemPrompt).toBe('You are the chatty agent.\n\nAnswer in French.');
    expect(run.spec.timeout).toBe(v010 ? undefined : '10m');
    expect(run.spec.sessionKey).toMatch(/^web-chatty-\d{19}$/);
    expect(run.status.tokenUsage.totalTokens).toBeGreaterThan(0);
  });

  test('stream: the whole answer in one chunk (model ""), a stop chunk with an empty role and content, [DONE]', async () => {
    const response = await ask('stream me a reasonably long answer please', true);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const [content, stop, done, ...rest] = events(await response.text());
    expect(rest).toEqual([]);
    expect(done).toBe('data: [DONE]');
    const chunk = JSON.parse(content!.slice('data: '.length));
    expect(chunk).toEqual({ id: expect.stringMatching(/^chatcmpl-chatty-web-/), object: 'chat.completion.chunk', created: expect.any(Number), model: '', choices: [{ index: 0, delta: { role: 'assistant', content: `${echoPrefix} stream me a reasonably long answer please` }, finish_reason: null }] });
    expect(JSON.parse(stop!.slice('data: '.length))).toEqual({ id: chunk.id, object: 'chat.completion.chunk', created: expect.any(Number), model: '', choices: [{ index: 0, delta: { role: '', content: '' }, finish_reason: 'stop' }] });

    const stream = await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'through the SDK' }], stream: true, stream_options: { include_usage: true } });
    const contents: string[] = [];
    let usage: unknown;
    for await (const piece of stream) {
      if (piece.usage) usage = piece.usage;
      if (piece.choices[0]?.delta.content) contents.push(piece.choices[0].delta.content);
    }
    expect(contents).toEqual([`${echoPrefix} through the SDK`]);
    expect(usage).toBeUndefined();
  });

  test('bodies Go cannot decode are 400s with Go\'s own error text; the rest of a body is ignored', async () => {
    const cases: [string, string][] = [
      ['', 'invalid request: EOF'],
      ['  {"messages": [', 'invalid request: unexpected EOF'],
      ['{not json', "invalid request: invalid character 'n' looking for beginning of object key string"],
      ['{"messages": x}', "invalid request: invalid character 'x' looking for beginning of value"],
      ['{"messages": [] "stream": true}', `invalid request: invalid character '"' after object key:value pair`],
      ['[]', 'invalid request: json: cannot unmarshal array into Go value of type webproxy.ChatCompletionRequest'],
      ['{"messages": "hi"}', 'invalid request: json: cannot unmarshal string into Go struct field ChatCompletionRequest.messages of type []webproxy.ChatMessage'],
      [JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'text', text: 'parts' }] }] }), 'invalid request: json: cannot unmarshal array into Go struct field ChatMessage.messages.content of type string'],
      [JSON.stringify({ stream: 'yes', messages: [{ role: 'user', content: 'hi' }] }), 'invalid request: json: cannot unmarshal string into Go struct field ChatCompletionRequest.stream of type bool'],
      ['{}', 'messages array is required'],
      [JSON.stringify({ messages: null }), 'messages array is required'],
      [JSON.stringify({ messages: [{ role: 'system', content: 'only system' }] }), 'no user message found'],
      [JSON.stringify({ messages: [{ role: 'user', content: 'first' }, { role: 'user', content: '' }] }), 'no user message found'],
    ];
    for (const [body, message] of cases) {
      const response = await post(body);
      expect(response.status, body).toBe(400);
      expect(await response.text(), body).toBe(`${JSON.stringify({ error: { message, type: 'error' } })}\n`);
    }
    await expect(client.chat.completions.create({ model: 'x', messages: [] })).rejects.toMatchObject({ status: 400 });
    // Field names match case-insensitively, unknown fields and whatever follows the value are ignored.
    const loose = await post(`${JSON.stringify({ Messages: [{ ROLE: 'user', Content: 'loose', name: 'n' }], temperature: 2 })} trailing`);
    expect(((await loose.json()) as Obj).choices[0].message.content).toBe(`${echoPrefix} loose`);
  });

  test('the runner fails ([fail]): 200 "(no response)", a stream with no content; the run then fails', async () => {
    const completion = await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'please [fail]' }] });
    expect(completion.choices[0]!.message.content).toBe('(no response)');
    const streamed = events(await (await ask('stream [fail]', true)).text());
    expect(streamed).toHaveLength(2);
    expect(JSON.parse(streamed[0]!.slice(6)).choices[0]).toEqual({ index: 0, delta: { role: '', content: '' }, finish_reason: 'stop' });
    expect(streamed[1]).toBe('data: [DONE]');
    const [run] = await waitFor(async () => {
      const runs = await webRuns('please [fail]');
      return runs[0]?.status?.phase === 'Failed' ? runs : undefined;
    }, 'the [fail] run Failed');
    expect(run.status.error).toBe('echo model: failing on purpose because the task contains [fail]');
    expect((await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'nothing [silent]' }] })).choices[0]!.message.content).toBe('(no response)');
  });

  test('the completion before the chunk ([completion-first]): an empty stream; blocking still has the answer', async () => {
    const streamed = events(await (await ask('race [completion-first]', true)).text());
    expect(streamed.map((event) => (event === 'data: [DONE]' ? event : JSON.parse(event.slice(6)).choices[0].finish_reason))).toEqual(['stop', 'data: [DONE]']);
    // Another task: on v0.10 the same one would reuse the first run until its phase is Succeeded, and that
    // run's completion has been published already, so the request would wait out the timeout (as upstream's).
    const completion = await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'blocking race [completion-first]' }] });
    expect(completion.choices[0]!.message.content).toBe(`${echoPrefix} blocking race [completion-first]`);
  });

  test(
    v010
      ? 'the controller fails the run ([crash]): 500 "agent run failed: Job failed", an agent_error event and no [DONE]'
      : 'the controller fails the run ([crash]): no failure event in v0.5.8, so the request waits out the proxy timeout (504)',
    async () => {
      const started = Date.now();
      const blocking = await post(JSON.stringify({ messages: [{ role: 'user', content: 'die [crash]' }] }));
      const text = await blocking.text();
      if (v010) {
        expect(blocking.status).toBe(500);
        expect(text).toBe(`${JSON.stringify({ error: { message: 'agent run failed: Job failed', type: 'error' } })}\n`);
        expect(await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'sdk [crash]' }] }).catch((error) => error)).toBeInstanceOf(OpenAI.InternalServerError);
        const streamed = events(await (await ask('stream [crash]', true)).text());
        expect(streamed).toEqual([`data: ${JSON.stringify({ error: { message: 'Job failed', type: 'agent_error' } })}`]);
      } else {
        expect(blocking.status).toBe(504);
        expect(text).toBe(`${JSON.stringify({ error: { message: 'agent run timed out', type: 'error' } })}\n`);
        expect(Date.now() - started).toBeGreaterThanOrEqual(timings.proxyTimeoutMs - 50);
        const [run] = await webRuns('die [crash]');
        expect(run.status).toMatchObject({ phase: 'Failed', error: 'Job failed' });
        // The stream's headers came at once; the timeout ends it with nothing in it.
        const stream = await ask('stream [crash]', true);
        expect(stream.status).toBe(200);
        expect(await stream.text()).toBe('');
      }
    },
  );

  test('a slow answer ([slow:300ms]) takes that long; 10 KB of input echoes quickly', async () => {
    let started = Date.now();
    expect(((await (await ask('take your time [slow:300ms]')).json()) as Obj).choices[0].message.content).toContain('take your time');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    const long = Array.from({ length: 2000 }, (_, index) => `w${index % 10}xyz`).join(' ');
    expect(long.length).toBeGreaterThan(10_000);
    started = Date.now();
    const completion = await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: long }] });
    expect(completion.choices[0]!.message.content).toBe(`${echoPrefix} ${long}`);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  test(
    v010 ? 'Idempotency-Key (v0.10.17+): a repeat reuses the unfinished run; a finished one is never reused' : 'v0.5.8 has no Idempotency-Key and no reuse: every request is a run',
    async () => {
      const abort = new AbortController();
      try {
        const first = await post(JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'keyed one [hang]' }] }), { 'Idempotency-Key': 'key-1' }, abort.signal);
        expect(first.status).toBe(200);
        await waitFor(async () => (await webRuns('keyed one [hang]')).length === 1, 'the first keyed run');
        await new Promise((resolve) => setTimeout(resolve, 100));
        const second = await post(JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'keyed two [hang]' }] }), { 'Idempotency-Key': ' key-1 ' }, abort.signal);
        expect(second.status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect((await webRuns('keyed two [hang]')).length).toBe(v010 ? 0 : 1);
      } finally {
        abort.abort();
      }
      const body = JSON.stringify({ messages: [{ role: 'user', content: 'only once' }] });
      const one = (await (await post(body, { 'Idempotency-Key': 'abc-1' })).json()) as Obj;
      await waitFor(async () => (await webRuns('only once'))[0]?.status?.phase === 'Succeeded', 'the first run Succeeded');
      const two = (await (await post(body, { 'Idempotency-Key': 'abc-1' })).json()) as Obj;
      expect(two.id).not.toBe(one.id);
      const runs = await webRuns('only once');
      expect(runs).toHaveLength(2);
      for (const run of runs) expect(run.metadata.labels['sympozium.ai/request-hash']).toEqual(v010 ? expect.stringMatching(/^[0-9a-f]{16}$/) : undefined);
      if (v010) {
        // Without a key the request itself is the hash: a repeat while the first run's Job is still ending reuses
        // that run, whose completion has already gone by, so it waits out the proxy's timeout (upstream's too).
        const same = JSON.stringify({ messages: [{ role: 'user', content: 'said twice' }] });
        expect((await post(same)).status).toBe(200);
        const again = await post(same);
        expect([again.status, ((await again.json()) as Obj).error.message]).toEqual([504, 'agent run timed out']);
        expect(await webRuns('said twice')).toHaveLength(1);
      }
    },
  );

  test(v010 ? "the run's spec.timeout is the Agent's agents.default.runTimeout (ParseRunTimeout), none when unset" : "the run's spec.timeout is always 10m", async () => {
    const timed = await servingInstance(plane, 'timed', v010 ? { agents: { default: { model: 'gpt-4.1', runTimeout: '45s' } } } : {});
    const completion = (await (await fetch(`${timed.baseURL}/chat/completions`, { method: 'POST', headers: { Authorization: `Bearer ${timed.key}` }, body: JSON.stringify({ messages: [{ role: 'user', content: 'timed' }] }) })).json()) as Obj;
    const run = await plane.api.get(paths.runs('default', completion.id.slice('chatcmpl-'.length)));
    expect(run.spec.timeout).toBe(v010 ? '45s' : '10m');
  });

  test('auth: only /healthz is open; the rest, unknown paths included, needs the key before Go mux 404/405', async () => {
    const health = await fetch(`${base()}/healthz`);
    expect([health.status, await health.text()]).toEqual([200, 'ok']);
    const anonymous = await fetch(`${base()}/health`);
    expect([anonymous.status, await anonymous.text()]).toEqual([401, `${JSON.stringify({ error: { message: 'missing or invalid Authorization header', type: 'error' } })}\n`]);
    const wrongKey = await fetch(`${endpoint.baseURL}/models`, { headers: { Authorization: 'Bearer sk-wrong' } });
    expect([wrongKey.status, await wrongKey.json()]).toEqual([401, { error: { message: 'invalid API key', type: 'error' } }]);
    await expect(new OpenAI({ baseURL: endpoint.baseURL, apiKey: 'sk-wrong', maxRetries: 0 }).models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const auth = { Authorization: `Bearer ${endpoint.key}` };
    const unknown = await fetch(`${base()}/health`, { headers: auth });
    expect([unknown.status, unknown.headers.get('content-type'), await unknown.text()]).toEqual([404, 'text/plain; charset=utf-8', '404 page not found\n']);
    const wrongMethod = await fetch(`${base()}/v1/chat/completions`, { headers: auth });
    expect([wrongMethod.status, wrongMethod.headers.get('allow'), await wrongMethod.text()]).toEqual([405, 'POST', 'Method Not Allowed\n']);
    const postModels = await fetch(`${endpoint.baseURL}/models`, { method: 'POST', headers: auth });
    expect([postModels.status, postModels.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    // A path that is not clean is a 301 to the clean one, once past the key.
    const unclean = await fetch(`${base()}/v1/./models?x=1`.replace('/v1/./', '/v1//'), { headers: auth, redirect: 'manual' });
    expect([unclean.status, unclean.headers.get('location'), await unclean.text()]).toEqual([301, '/v1/models?x=1', '<a href="/v1/models?x=1">Moved Permanently</a>.\n\n']);
    expect((await fetch(`${base()}//v1/models`, { redirect: 'manual' })).status).toBe(401);
  });

  test(`the rate limit: no Retry-After; ${v010 ? 'checked before the key, so wrong keys spend it' : 'checked after the key, so wrong keys do not spend it'}; MCP requests count`, async () => {
    const limited = await servingInstance(plane, 'limited', {}, { rate_limit_rpm: '1', rate_limit_burst: '2' });
    const models = (key: string) => fetch(`${limited.baseURL}/models`, { headers: { Authorization: `Bearer ${key}` } });
    expect((await models('sk-wrong')).status).toBe(v010 ? 401 : 401);
    expect((await models('sk-wrong')).status).toBe(401);
    expect((await models('sk-wrong')).status).toBe(v010 ? 429 : 401);
    if (!v010) {
      const sse = new AbortController();
      expect((await fetch(`${limited.baseURL.replace(/\/v1$/, '')}/sse`, { headers: { Authorization: `Bearer ${limited.key}` }, signal: sse.signal })).status).toBe(200);
      sse.abort();
      expect((await models(limited.key)).status).toBe(200);
    }
    const refused = await models(limited.key);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(await refused.text()).toBe(`${JSON.stringify({ error: { message: 'rate limit exceeded', type: 'error' } })}\n`);
    await expect(new OpenAI({ baseURL: limited.baseURL, apiKey: limited.key, maxRetries: 0 }).models.list()).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    expect((await fetch(`${limited.baseURL.replace(/\/v1$/, '')}/healthz`)).status).toBe(200);
  });

  test('a rotated key is taken when the serving pod restarts (the key is its environment), not before', async () => {
    const port = plane.proxyPort('default', 'chatty');
    const rotated = `sk-${'ab'.repeat(24)}`;
    await plane.api.patch(paths.secrets('default', 'chatty-web-proxy-key'), { data: { 'api-key': Buffer.from(rotated).toString('base64') } });
    const fresh = new OpenAI({ baseURL: endpoint.baseURL, apiKey: rotated, maxRetries: 0 });
    const [deployment] = await plane.api.list(paths.deployments(), 'sympozium.ai/instance=chatty');
    const proxy = deployment.spec.template.spec.containers.find((container: Obj) => container.name === 'web-proxy');
    expect(proxy.env).toContainEqual({ name: 'WEB_PROXY_API_KEY', valueFrom: { secretKeyRef: { name: 'chatty-web-proxy-key', key: 'api-key' } } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await client.models.list()).data).toHaveLength(1);
    await expect(fresh.models.list()).rejects.toMatchObject({ status: 401 });
    // kubectl rollout restart, as `sympozium key rotate` does when the proxy reads its key from the environment.
    await plane.api.patch(paths.deployments('default', deployment.metadata.name), { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } });
    await waitFor(() => fresh.models.list().then(() => true, () => false), 'the rotated key accepted after the restart');
    await expect(client.models.list()).rejects.toMatchObject({ status: 401 });
    expect(plane.proxyPort('default', 'chatty')).toBe(port);
    endpoint = { ...endpoint, key: rotated };
    client = fresh;
  });
});
