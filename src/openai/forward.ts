import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Agent } from 'node:http';
import { isLoopbackHost, transportFor } from './http.js';
import { runNameFromId } from './types.js';

/**
 * The request handler of `sympozium proxy`: every request is passed to the instance's endpoint with the
 * instance's key put in its Authorization header, and the answer comes back as it arrives (a stream is
 * written through chunk by chunk, never collected). Local clients send no key, or the proxy's own local
 * key; the instance's key never reaches them, a log line or an error.
 */

interface Upstream {
  /** The endpoint's base URL (no trailing slash, no /v1). */
  baseUrl: string;
  apiKey: string;
}

export interface RequestRecord {
  method: string;
  /** The path without the query string (MCP's sessionId stays out of logs). */
  path: string;
  status: number;
  /** The AgentRun behind a chat completion, read from the `chatcmpl-<run>` id as the answer passes. */
  run?: string;
  ms: number;
  /** The local client went away before the answer was complete. */
  aborted: boolean;
}

export interface ForwardOptions {
  upstream(): Upstream;
  /**
   * Called when the endpoint refuses the key (401): reads it again (a `key rotate` writes a new one) and says
   * whether it changed, so the request is sent once more. Absent when the key came from a flag.
   */
  refreshKey?: () => Promise<boolean>;
  /** The key local clients must send (`--local-key`), else none is asked for. */
  localKey?: string;
  /**
   * Listening on loopback: refuse requests whose Host or Origin is not a loopback name, so a web page cannot
   * reach the key-adding proxy through DNS rebinding or a cross-site request.
   */
  loopbackOnly: boolean;
  onRequest(record: RequestRecord): void;
  debug?: (message: string) => void;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and what the proxy sets itself. */
const dropped = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'authorization', 'content-length']);
const maxBody = 32 * 1024 * 1024;

export interface Forwarder {
  handle(request: http.IncomingMessage, response: http.ServerResponse): void;
  close(): void;
}

export async function createForwarder(options: ForwardOptions): Promise<Forwarder> {
  const agents = new Map<string, Agent>();
  const agentFor = async (url: URL) => {
    let agent = agents.get(url.protocol);
    // Keep-alive: behind a port-forward each new connection is a new tunnel through the API server.
    if (!agent) agents.set(url.protocol, (agent = new (await transportFor(url)).Agent({ keepAlive: true, noDelay: true } as http.AgentOptions)));
    return agent;
  };
  const local = options.localKey === undefined ? undefined : Buffer.from(`Bearer ${options.localKey}`);

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const method = request.method ?? 'GET';
    const path = (request.url ?? '/').split('?')[0]!;
    const record: RequestRecord = { method, path, status: 0, ms: 0, aborted: false };
    response.once('close', () => {
      record.status ||= response.statusCode;
      record.aborted = !response.writableFinished;
      record.ms = Number(process.hrtime.bigint() - started) / 1e6;
      options.onRequest(record);
    });

    const refused = refusal(request, options.loopbackOnly, local) ?? strayTarget(request, options.upstream().baseUrl);
    if (refused) {
      request.resume();
      return void reply(response, refused.status, refused.message);
    }
    let body: Buffer;
    try {
      body = await readBody(request);
    } catch (error) {
      return void reply(response, 413, (error as Error).message);
    }

    let upstream: http.IncomingMessage | undefined;
    for (let attempt = 1; ; attempt++) {
      const target = options.upstream();
      const url = new URL(`${target.baseUrl}${request.url ?? '/'}`);
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(request.headers)) if (value !== undefined && !dropped.has(name)) headers[name] = value;
      headers.authorization = `Bearer ${target.apiKey}`;
      if (body.length > 0 || !['GET', 'HEAD'].includes(method)) headers['content-length'] = String(body.length);
      try {
        upstream = await send(url, method, headers, body, await agentFor(url), response);
      } catch (error) {
        if (response.destroyed) return;
        const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        // A GET opens nothing on the server, so a connection lost while the endpoint's pod is replaced is tried once more.
        if (attempt === 1 && (method === 'GET' || method === 'HEAD')) {
          options.debug?.(`${method} ${path}: ${code}, trying again`);
          await new Promise((resolve) => setTimeout(resolve, 250));
          continue;
        }
        return void reply(response, 502, `sympozium proxy: the endpoint did not answer (${code}); is the instance restarting?`);
      }
      if (upstream.statusCode === 401 && attempt === 1 && options.refreshKey) {
        upstream.resume();
        if (await options.refreshKey().catch(() => false)) {
          options.debug?.(`${method} ${path}: the endpoint refused the key; sending again with the key it has now`);
          continue;
        }
        upstream = await send(url, method, { ...headers, authorization: `Bearer ${options.upstream().apiKey}` }, body, await agentFor(url), response).catch(() => undefined);
        if (!upstream) return void reply(response, 502, 'sympozium proxy: the endpoint did not answer');
      }
      break;
    }

    const outgoing: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(upstream.headers)) if (value !== undefined && !dropped.has(name) && name !== 'content-length') outgoing[name] = value;
    if (upstream.headers['content-length'] !== undefined) outgoing['content-length'] = upstream.headers['content-length'];
    response.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, outgoing);
    // A stream's headers go out now (an SSE client waits for them); otherwise they leave with the first bytes, in one packet.
    if (String(upstream.headers['content-type'] ?? '').startsWith('text/event-stream')) response.flushHeaders();
    const sniff = path.endsWith('/chat/completions') ? runSniffer(record) : undefined;
    upstream.on('data', (chunk: Buffer) => {
      sniff?.(chunk);
      if (!response.write(chunk)) {
        upstream!.pause();
        response.once('drain', () => upstream!.resume());
      }
    });
    upstream.on('end', () => response.end());
    upstream.on('error', () => response.destroy());
    response.on('close', () => upstream!.destroy());
  }

  return {
    handle: (request, response) => {
      handle(request, response).catch((error: unknown) => {
        options.debug?.(`sympozium proxy: ${(error as Error).message}`);
        if (!response.headersSent) reply(response, 500, 'sympozium proxy: internal error');
        else response.destroy();
      });
    },
    close: () => {
      for (const agent of agents.values()) agent.destroy();
    },
  };
}

function refusal(request: http.IncomingMessage, loopbackOnly: boolean, local: Buffer | undefined): { status: number; message: string } | undefined {
  if (loopbackOnly) {
    const host = hostnameOf(request.headers.host);
    if (host !== undefined && !isLoopbackHost(host)) return { status: 403, message: `sympozium proxy: refusing a request for host ${JSON.stringify(host)}; it serves loopback only` };
    const origin = request.headers.origin;
    if (origin && origin !== 'null') {
      let originHost: string | undefined;
      try {
        originHost = new URL(origin).hostname;
      } catch {
        originHost = undefined;
      }
      if (!originHost || !isLoopbackHost(originHost)) return { status: 403, message: 'sympozium proxy: refusing a cross-site request from a web page' };
    } else if (origin === 'null') return { status: 403, message: 'sympozium proxy: refusing a request from an opaque origin' };
  }
  if (local) {
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== local.length || !timingSafeEqual(given, local)) {
      return { status: 401, message: 'sympozium proxy: missing or wrong local key (this proxy was started with --local-key)' };
    }
  }
  return undefined;
}

/**
 * Only origin-form targets (`/v1/...`): the key must never go anywhere but the endpoint, and a target such as
 * `@evil.example/x` or an absolute URL glued to the base would name another host.
 */
function strayTarget(request: http.IncomingMessage, baseUrl: string): { status: number; message: string } | undefined {
  const target = request.url ?? '/';
  const refused = { status: 400, message: 'sympozium proxy: only paths such as /v1/chat/completions are forwarded' };
  if (!target.startsWith('/') || target.startsWith('//')) return refused;
  try {
    return new URL(`${baseUrl}${target}`).origin === new URL(baseUrl).origin ? undefined : refused;
  } catch {
    return refused;
  }
}

function hostnameOf(host: string | undefined): string | undefined {
  if (!host) return undefined;
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return host;
  }
}

async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBody) throw new Error(`sympozium proxy: the request is larger than ${maxBody} bytes`);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

async function send(url: URL, method: string, headers: Record<string, string | string[]>, body: Buffer, agent: Agent, response: http.ServerResponse): Promise<http.IncomingMessage> {
  const transport = await transportFor(url);
  return new Promise((resolve, reject) => {
    const outgoing = transport.request(url, { method, headers, agent }, resolve);
    outgoing.on('error', reject);
    // The local client gave up: so does the request to the endpoint (an agent run is not kept waiting for nobody).
    const onClose = () => outgoing.destroy();
    response.once('close', onClose);
    outgoing.once('response', () => response.off('close', onClose));
    outgoing.end(body.length > 0 ? body : undefined);
  });
}

/** Reads the run name from the first `"id":"chatcmpl-<run>"` that passes, looking at no more than the first 16 KB. */
function runSniffer(record: RequestRecord): (chunk: Buffer) => void {
  let seen = '';
  let done = false;
  return (chunk) => {
    if (done) return;
    seen += chunk.toString('utf8');
    const match = /"id"\s*:\s*"(chatcmpl-[^"]+)"/.exec(seen);
    if (match) record.run = runNameFromId(match[1]);
    if (match || seen.length > 16 * 1024) done = true;
  };
}

function reply(response: http.ServerResponse, status: number, message: string): void {
  if (response.headersSent) return void response.destroy();
  const body = JSON.stringify({ error: { message, type: 'error' } });
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

