import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InterruptedError } from '../../src/errors.js';
import { EndpointClient } from '../../src/openai/client.js';
import { EndpointError, httpError } from '../../src/openai/errors.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { servingInstance, startPlane } from '../dev/helpers.js';

/**
 * The client against dev's web proxy (as upstream's answers), behind a gateway that plays the failures only a
 * gateway sends (502/503 pages, 429 with Retry-After: upstream's proxy sends none), with short retry waits.
 */

let plane: Awaited<ReturnType<typeof startPlane>>;
let proxy: Gateway;
let apiKey: string;
beforeAll(async () => {
  plane = await startPlane();
  const served = await servingInstance(plane, 'demo', {}, { rate_limit_rpm: '6000', rate_limit_burst: '200' });
  apiKey = served.key;
  proxy = await startGateway(served.baseURL.replace(/\/v1$/, ''));
});
afterAll(async () => {
  await proxy?.stop();
  await plane?.stop();
});

const status = (code: number, retryAfter?: string) => ({ kind: 'status' as const, status: code, ...(retryAfter === undefined ? {} : { retryAfter }) });
const client = (options: ConstructorParameters<typeof EndpointClient>[1] = {}) =>
  new EndpointClient(
    { instance: 'demo', baseUrl: proxy.url, via: 'flag', apiKey, keySource: 'the --key flag' },
    { policy: { baseDelayMs: 10, rateLimitFloorMs: 10, maxDelayMs: 40 }, ...options },
  );
const ask = (c: EndpointClient, extra: Parameters<EndpointClient['chat']>[1] = { timeoutMs: 5_000 }) =>
  c.chat({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }, extra);

describe('EndpointClient', () => {
  it('gives up after maxAttempts, with the last error', async () => {
    const before = proxy.seen.length;
    proxy.enqueue(...Array.from({ length: 3 }, () => status(503)));
    const failure = await ask(client({ policy: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 } })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(EndpointError);
    expect((failure as EndpointError).status).toBe(503);
    expect(proxy.seen.length - before).toBe(3);
  });

  it('honours Retry-After, and says so when it asks for more than the budget allows', async () => {
    proxy.enqueue(status(429, '0'));
    const retries: number[] = [];
    const outcome = await ask(client(), { timeoutMs: 5_000, onRetry: (r) => retries.push(r.delayMs) });
    expect(retries).toEqual([0]);
    expect(outcome.attempts).toBe(2);

    proxy.enqueue(status(429, '120'));
    const failure = await ask(client()).catch((e: unknown) => e);
    expect((failure as Error).message).toBe('the web endpoint is rate limiting requests (429) and asks to wait 2m');
  });

  it('a Ctrl-C during a retry wait stops at once', async () => {
    const abort = new AbortController();
    proxy.enqueue(status(429, '30'));
    const pending = ask(client({ signal: abort.signal }), { timeoutMs: 60_000, onRetry: () => setTimeout(() => abort.abort(new InterruptedError()), 10) });
    await expect(pending).rejects.toBeInstanceOf(InterruptedError);
  });

  it('the same Idempotency-Key on every attempt; a caller can pass its own', async () => {
    const before = proxy.seen.length;
    proxy.enqueue(status(502));
    const outcome = await ask(client(), { timeoutMs: 5_000, idempotencyKey: 'my-key-1' });
    expect(outcome.idempotencyKey).toBe('my-key-1');
    expect(proxy.seen.slice(before).map((r) => r.headers['idempotency-key'])).toEqual(['my-key-1', 'my-key-1']);
  });
});

describe('error messages', () => {
  const endpoint = { instance: 'demo', baseUrl: 'https://demo.example.com', via: 'status' as const, keySource: 'Secret demo-web-endpoint-key', namespaceFlag: 'team-a' };

  it('401 names where the key came from and how to get the right one, never the key', () => {
    const error = httpError(401, '{"error":{"message":"invalid API key","type":"error"}}', endpoint, 'POST /v1/chat/completions');
    expect(error.message).toBe('the web endpoint at https://demo.example.com rejected the API key (401 Unauthorized)');
    expect(error.hint).toContain('from Secret demo-web-endpoint-key');
    expect(error.hint).toContain('`sympozium key show demo -n team-a --reveal`');
  });

  it('404 says the endpoint is not enabled or not ready, or that --url may be wrong', () => {
    expect(httpError(404, '', endpoint, 'GET /v1/models').hint).toContain('`sympozium enable web-endpoint demo -n team-a`');
    expect(httpError(404, '', { ...endpoint, via: 'flag' }, 'GET /v1/models').hint).toMatch(/^Check --url/);
  });

  it('a gateway page is shortened to its text', () => {
    expect(httpError(502, '<html><body><h1>502 Bad Gateway</h1></body></html>', endpoint, 'x').message).toBe(
      'the web endpoint is unavailable (502): 502 Bad Gateway, even after several tries',
    );
  });

  it('where the proxy may not honour Idempotency-Key (v0.5.8), retries only a 429, which comes before any run', async () => {
    const before = proxy.seen.length;
    proxy.enqueue(status(502));
    const failure = await ask(client({ idempotent: async () => false })).catch((e: unknown) => e);
    expect((failure as EndpointError).status).toBe(502);
    expect(proxy.seen.length - before).toBe(1);

    proxy.enqueue(status(429));
    const reasons: string[] = [];
    const outcome = await ask(client({ idempotent: async () => undefined }), { timeoutMs: 5_000, onRetry: (r) => reasons.push(r.safeBecause) });
    expect(outcome.attempts).toBe(2);
    expect(reasons).toEqual(['refused-before-run']);

    proxy.enqueue(status(503));
    const safe: string[] = [];
    await ask(client({ idempotent: async () => true }), { timeoutMs: 5_000, onRetry: (r) => safe.push(r.safeBecause) });
    expect(safe).toEqual(['idempotency-key']);
  });
});
