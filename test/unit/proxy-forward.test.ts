import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createForwarder, type ForwardOptions, type RequestRecord } from '../../src/openai/forward.js';

/** The proxy's handler in-process, in front of a scripted endpoint: what reaches the endpoint, and when what it sends reaches the client. */

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function listen(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function proxyTo(baseUrl: string, options: Partial<ForwardOptions> = {}) {
  const records: RequestRecord[] = [];
  const target = { baseUrl, apiKey: 'sk-instance-key-0001' };
  const forwarder = await createForwarder({ upstream: () => target, loopbackOnly: true, onRequest: (record) => records.push(record), ...options });
  closers.push(() => forwarder.close());
  return { url: await listen(forwarder.handle), records, target };
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  new Promise<http.IncomingMessage>((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, resolve);
    request.on('error', reject);
    request.end(body);
  });

describe('the proxy handler', () => {
  it('replaces the Authorization header with the instance key and drops hop-by-hop headers', async () => {
    let seen: http.IncomingHttpHeaders = {};
    let body = '';
    const upstream = await listen((req, res) => {
      seen = req.headers;
      req.on('data', (chunk) => (body += chunk)).on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"chatcmpl-demo-web-abcde"}'));
    });
    const { url, records } = await proxyTo(upstream);
    const response = await post(`${url}/v1/chat/completions?x=1`, '{"messages":[]}', { authorization: 'Bearer whatever-the-client-sent', 'proxy-authorization': 'x', 'idempotency-key': 'k1' });
    response.resume();
    await new Promise((resolve) => response.on('end', resolve));
    expect(seen.authorization).toBe('Bearer sk-instance-key-0001');
    expect(seen['proxy-authorization']).toBeUndefined();
    expect(seen['idempotency-key']).toBe('k1');
    expect(body).toBe('{"messages":[]}');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(records).toMatchObject([{ method: 'POST', path: '/v1/chat/completions', status: 200, run: 'demo-web-abcde', aborted: false }]);
  });

  it('passes a stream through chunk by chunk: the client has the first event before the endpoint writes the second', async () => {
    let next: (() => void) | undefined;
    const upstream = await listen((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"id":"chatcmpl-demo-web-s1"}\n\n');
      next = () => res.end('data: [DONE]\n\n');
    });
    const { url, records } = await proxyTo(upstream);
    const response = await post(`${url}/v1/chat/completions`, '{"stream":true}');
    const chunks: string[] = [];
    await new Promise<void>((resolve) => {
      response.setEncoding('utf8').on('data', (chunk: string) => {
        chunks.push(chunk);
        if (chunks.length === 1) next!();
      });
      response.on('end', resolve);
    });
    expect(chunks).toEqual(['data: {"id":"chatcmpl-demo-web-s1"}\n\n', 'data: [DONE]\n\n']);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(records[0]).toMatchObject({ status: 200, run: 'demo-web-s1' });
  });

  it('a refused key: reads it again and sends the request once more; a client going away cancels the endpoint request', async () => {
    let calls = 0;
    let cancelled = false;
    const upstream = await listen((req, res) => {
      calls++;
      req.resume();
      if (req.headers.authorization !== 'Bearer sk-rotated-key-0002') return res.writeHead(401).end('{"error":{"message":"invalid API key"}}');
      if (req.url === '/hang') return void res.on('close', () => (cancelled = true));
      res.writeHead(200).end('ok');
    });
    const state: { target?: { apiKey: string } } = {};
    const { url, target } = await proxyTo(upstream, {
      refreshKey: async () => {
        state.target!.apiKey = 'sk-rotated-key-0002';
        return true;
      },
    });
    state.target = target;
    const response = await post(`${url}/v1/models`, '');
    expect(response.statusCode).toBe(200);
    expect(calls).toBe(2);

    const request = http.request(`${url}/hang`, { method: 'POST' });
    request.on('error', () => undefined);
    request.end('{}');
    await new Promise((resolve) => setTimeout(resolve, 50));
    request.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(cancelled).toBe(true);
  });

  it('an endpoint that does not answer is a 502 in the OpenAI error shape; a wrong local key a 401', async () => {
    const { url } = await proxyTo('http://127.0.0.1:1');
    const response = await post(`${url}/v1/chat/completions`, '{}');
    expect(response.statusCode).toBe(502);
    const text = await new Promise<string>((resolve) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk) => (body += chunk)).on('end', () => resolve(body));
    });
    expect(JSON.parse(text).error.message).toContain('the endpoint did not answer (ECONNREFUSED)');
    const locked = await proxyTo('http://127.0.0.1:1', { localKey: 'sk-local-abc' });
    expect((await post(`${locked.url}/v1/models`, '', { authorization: 'Bearer nope' })).statusCode).toBe(401);
  });
});

describe('what the proxy forwards', () => {
  it('only paths on the endpoint: a request target naming another host is refused before anything is sent', async () => {
    let reached = 0;
    const upstream = await listen((req, res) => {
      reached++;
      res.end();
    });
    const { url } = await proxyTo(upstream);
    const { port } = new URL(url);
    const { connect } = await import('node:net');
    for (const target of ['@evil.example/x', 'http://evil.example/x', '//evil.example/x']) {
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.end(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
        let text = '';
        socket.setEncoding('utf8').on('data', (chunk) => (text += chunk)).on('close', () => resolve(text));
      });
      expect(answer, target).toMatch(/^HTTP\/1\.1 400/);
    }
    expect(reached).toBe(0);
  });
});
