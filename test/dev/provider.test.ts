import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { paths, servingInstance, startPlane, waitFor, type Obj } from './helpers.js';

/**
 * A real OpenAI-compatible endpoint as the instance's provider (agents.default.baseURL), played by a small local
 * HTTP server that streams like Ollama or vLLM: the key from the authRefs Secret reaches it, its chunks reach the
 * agent's log as they come, and the client gets the whole answer in one chunk when the agent is done (upstream's
 * agent runner writes one stream-0.json); its errors become Failed runs carrying its message, while the request
 * gets upstream's 200 "(no response)" (the runner's error result is a completion with no response).
 */

let plane: Awaited<ReturnType<typeof startPlane>>;
let upstream: http.Server;
const seen: { authorization?: string; body: Obj }[] = [];
let releaseSecondChunk: () => void = () => undefined;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const body = JSON.parse(text);
      seen.push({ authorization: req.headers.authorization, body });
      const task = body.messages.at(-1).content as string;
      if (task.includes('bad key')) {
        // As OpenAI answers a wrong key: the message quotes it.
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${String(req.headers.authorization).replace(/^Bearer /, '')}.`, type: 'invalid_request_error' } }));
        return;
      }
      if (task.includes('overloaded')) {
        res.writeHead(503, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'model is overloaded, try later', type: 'server_error' } }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const chunk = (content: string) => res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`);
      chunk('Hello ');
      // The second chunk waits for the test: proof that the first reached the client before the answer ended.
      new Promise<void>((resolve) => {
        releaseSecondChunk = resolve;
        if (!task.includes('wait')) resolve();
      }).then(() => {
        chunk('from upstream');
        res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 } })}\n\n`);
        res.end('data: [DONE]\n\n');
      });
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  plane = await startPlane();
  await plane.api.create(paths.secrets(), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'up-openai-key' }, stringData: { OPENAI_API_KEY: 'sk-upstream-secret' } });
});
afterAll(async () => {
  await plane?.stop();
  upstream?.close();
});

describe('an OpenAI-compatible provider', () => {
  test('streams chunk by chunk, with the authRefs key, and records the provider usage', async () => {
    const baseURL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
    const served = await servingInstance(plane, 'up', {
      agents: { default: { model: 'llama3.2', baseURL } },
      authRefs: [{ provider: 'openai', secret: 'up-openai-key' }],
    });
    const client = new OpenAI({ baseURL: served.baseURL, apiKey: served.key, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'please wait' }], stream: true });
    const pieces: string[] = [];
    const reading = (async () => {
      for await (const chunk of stream) {
        const content = chunk.choices[0]?.delta.content;
        if (content) pieces.push(content);
      }
    })();
    // The provider has sent its first piece and holds the second: the client has nothing yet.
    await waitFor(() => seen.some((request) => request.body.messages.at(-1).content === 'please wait'), 'the provider called');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(pieces).toEqual([]);
    releaseSecondChunk();
    await reading;
    expect(pieces).toEqual(['Hello from upstream']);
    expect(seen.at(-1)).toMatchObject({ authorization: 'Bearer sk-upstream-secret', body: { model: 'llama3.2', stream: true } });

    const completion = await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'blocking' }] });
    expect(completion.choices[0]!.message.content).toBe('Hello from upstream');
    expect(completion.usage).toBeUndefined();
    const blockingRun = await waitFor(async () => (await plane.api.list(paths.runs(), 'sympozium.ai/source=web-proxy')).find((item: Obj) => item.spec.task === 'blocking' && item.status?.phase === 'Succeeded'), 'the blocking run Succeeded');
    expect(blockingRun.status.tokenUsage).toMatchObject({ inputTokens: 11, outputTokens: 3, totalTokens: 14 });
  });

  test("a provider error fails the run with the provider's message", async () => {
    const served = await plane.api.get(paths.secrets('default', 'up-web-proxy-key'));
    const key = Buffer.from(served.data['api-key'], 'base64').toString();
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${plane.proxyPort('default', 'up')}/v1`, apiKey: key, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'overloaded?' }] });
    expect(completion.choices[0]!.message.content).toBe('(no response)');
    const run = await waitFor(async () => (await plane.api.list(paths.runs(), 'sympozium.ai/source=web-proxy')).find((item: Obj) => item.spec.task === 'overloaded?' && item.status?.phase === 'Failed'), 'the run Failed');
    expect(run.status.error).toContain('503');
    expect(run.status.error).toContain('model is overloaded, try later');
  });

  test('a provider error that quotes the key is stored with the key masked, in the status and the log', async () => {
    const served = await plane.api.get(paths.secrets('default', 'up-web-proxy-key'));
    const key = Buffer.from(served.data['api-key'], 'base64').toString();
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${plane.proxyPort('default', 'up')}/v1`, apiKey: key, maxRetries: 0 });
    await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'a bad key' }] }).catch(() => undefined);
    const run = await waitFor(async () => (await plane.api.list(paths.runs(), 'sympozium.ai/source=web-proxy')).find((item: Obj) => item.spec.task === 'a bad key' && item.status?.phase === 'Failed'), 'the run Failed');
    expect(run.status.error).toContain('Incorrect API key provided');
    expect(run.status.error).not.toContain('sk-upstream-secret');
    expect(run.status.error).toContain('…cret');
    const { body: log } = await plane.api.request('GET', `/api/v1/namespaces/default/pods/${run.status.podName}/log?container=agent`);
    expect(String(log)).toContain('Incorrect API key provided');
    expect(String(log)).not.toContain('sk-upstream-secret');
  });
});
