import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';

/**
 * A stand-in for the upstream Sympozium web proxy, reproducing its wire behaviour and rough edges from
 * ../shared/reference/sympozium-contract.md §3: the whole answer in one stream chunk, then an empty-delta
 * stop chunk, then [DONE]; an agent_error event with no [DONE]; a 200 whose content is "(no response)";
 * 429 without Retry-After; 504 after a timeout; 401 for a wrong key; MCP over HTTP+SSE. Tests script what
 * the next requests get with `enqueue`, and read what arrived in `requests`.
 */

type Scripted =
  | { kind: 'answer'; content?: string }
  | { kind: 'no-response' }
  | { kind: 'agent-error'; message?: string }
  | { kind: 'status'; status: number; message?: string; retryAfter?: string }
  | { kind: 'reset' }
  /** Never answers (the proxy waiting on a run that hangs); the client's --timeout must end it. */
  | { kind: 'hang' }
  /** Raw SSE bytes, written in the given pieces with a pause between them (tests split chunks anywhere). */
  | { kind: 'raw-sse'; pieces: (string | Buffer)[] };

interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The run a chat request created, when it got that far. */
  run?: string;
}

export interface UpstreamProxy {
  url: string;
  apiKey: string;
  instance: string;
  requests: RecordedRequest[];
  /** Runs created, by name; one per request unless an Idempotency-Key repeats (newer upstream). */
  runs: Map<string, { task: string; idempotencyKey?: string }>;
  enqueue(...responses: Scripted[]): void;
  stop(): Promise<void>;
}

export interface UpstreamProxyOptions {
  apiKey?: string;
  instance?: string;
  model?: string;
  /** Reuse the run of an earlier request with the same Idempotency-Key (newer upstream). Default true. */
  idempotency?: boolean;
  /** Answer when nothing is enqueued: an echo of the task. */
  defaultContent?: (task: string) => string;
}

export async function startUpstreamProxy(options: UpstreamProxyOptions = {}): Promise<UpstreamProxy> {
  const apiKey = options.apiKey ?? `sk-${randomBytes(24).toString('hex')}`;
  const instance = options.instance ?? 'demo';
  const model = options.model ?? 'gpt-4.1';
  const queue: Scripted[] = [];
  const requests: RecordedRequest[] = [];
  const runs = new Map<string, { task: string; idempotencyKey?: string }>();
  const byKey = new Map<string, string>();
  const sockets = new Set<Socket>();
  const mcpSessions = new Map<string, http.ServerResponse>();

  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const error = (res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}) =>
    json(res, status, { error: { message, type: 'error' } }, headers);

  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const url = new URL(req.url ?? '/', 'http://proxy');
    const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname + url.search, headers: req.headers, body };
    requests.push(record);

    if (url.pathname === '/healthz' || url.pathname === '/health') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return res.end('ok');
    }
    if (req.headers.authorization !== `Bearer ${apiKey}`) return error(res, 401, 'invalid API key');

    if (req.method === 'GET' && url.pathname === '/v1/models') {
      return json(res, 200, { object: 'list', data: [{ id: model, object: 'model', created: 1767225600, owned_by: 'sympozium' }] });
    }
    if (req.method === 'GET' && url.pathname === '/sse') return openMcpStream(res);
    if (req.method === 'POST' && url.pathname === '/message') return mcpMessage(url, body, res);
    if (req.method !== 'POST' || url.pathname !== '/v1/chat/completions') return error(res, 404, 'not found');

    const scripted = queue.shift();
    if (scripted?.kind === 'status') {
      return error(res, scripted.status, scripted.message ?? defaultMessage(scripted.status), scripted.retryAfter ? { 'Retry-After': scripted.retryAfter } : {});
    }
    if (scripted?.kind === 'reset') return req.socket.destroy();
    if (scripted?.kind === 'hang') return;

    let request: { messages?: { role: string; content: unknown }[]; stream?: boolean };
    try {
      request = JSON.parse(body);
    } catch {
      return error(res, 400, 'invalid JSON');
    }
    if (!request.messages?.length) return error(res, 400, 'messages is required');
    const lastUser = [...request.messages].reverse().find((message) => message.role === 'user');
    if (!lastUser || typeof lastUser.content !== 'string') return error(res, 400, 'no user message');

    const key = req.headers['idempotency-key'] as string | undefined;
    let run = key && options.idempotency !== false ? byKey.get(key) : undefined;
    if (!run) {
      run = `${instance}-web-${randomBytes(3).toString('hex').slice(0, 5)}`;
      runs.set(run, { task: lastUser.content, idempotencyKey: key });
      if (key) byKey.set(key, run);
    }
    record.run = run;
    const id = `chatcmpl-${run}`;
    const created = Math.floor(Date.now() / 1000);
    const content =
      scripted?.kind === 'no-response'
        ? '(no response)'
        : scripted?.kind === 'answer' && scripted.content !== undefined
          ? scripted.content
          : (options.defaultContent ?? ((task: string) => `echo: ${task}`))(lastUser.content);

    if (!request.stream) {
      if (scripted?.kind === 'agent-error') return error(res, 500, scripted.message ?? 'agent run failed');
      return json(res, 200, { id, object: 'chat.completion', created, model, choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] });
    }

    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    if (scripted?.kind === 'raw-sse') {
      for (const piece of scripted.pieces) {
        res.write(typeof piece === 'string' ? piece.replaceAll('{{id}}', id) : piece);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return res.end();
    }
    if (scripted?.kind === 'agent-error') {
      // Upstream: the error as a data event, and the stream simply ends, no [DONE].
      res.write(`data: ${JSON.stringify({ error: { message: scripted.message ?? 'agent run failed', type: 'agent_error' } })}\n\n`);
      return res.end();
    }
    const chunk = (delta: Record<string, string>, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    res.write(chunk({ role: 'assistant', content }, null));
    res.write(chunk({}, 'stop'));
    res.write('data: [DONE]\n\n');
    res.end();
  });

  function openMcpStream(res: http.ServerResponse): void {
    const sessionId = randomUUID();
    mcpSessions.set(sessionId, res);
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.write(`event: endpoint\ndata: /message?sessionId=${sessionId}\n\n`);
    res.on('close', () => mcpSessions.delete(sessionId));
  }

  function mcpMessage(url: URL, body: string, res: http.ServerResponse): void {
    const stream = mcpSessions.get(url.searchParams.get('sessionId') ?? '');
    if (!stream) return error(res, 404, 'unknown session');
    let message: { id?: number | string; method?: string; params?: { name?: string; arguments?: { task?: unknown } } };
    try {
      message = JSON.parse(body);
    } catch {
      return error(res, 400, 'invalid JSON');
    }
    res.writeHead(202).end();
    if (message.id === undefined) return;
    const reply = (payload: Record<string, unknown>): void =>
      void stream.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: message.id, ...payload })}\n\n`);
    switch (message.method) {
      case 'initialize':
        return reply({ result: { protocolVersion: '2024-11-05', capabilities: { tools: {} }, serverInfo: { name: 'sympozium-agent', version: '0.5.8' } } });
      case 'tools/list':
        return reply({
          result: {
            tools: [
              {
                name: 'ask_agent',
                description: 'Ask the agent to perform a task',
                inputSchema: { type: 'object', properties: { task: { type: 'string', description: 'The task' } }, required: ['task'] },
              },
            ],
          },
        });
      case 'tools/call': {
        const task = message.params?.arguments?.task;
        if (message.params?.name !== 'ask_agent' || typeof task !== 'string') return reply({ error: { code: -32602, message: 'invalid params' } });
        const run = `${instance}-mcp-${randomBytes(3).toString('hex').slice(0, 5)}`;
        runs.set(run, { task });
        const scripted = queue.shift();
        if (scripted?.kind === 'agent-error') return reply({ result: { content: [{ type: 'text', text: scripted.message ?? 'agent failed' }], isError: true } });
        // internal/webproxy/mcp.go: a run with no result answers this text, not an error.
        if (scripted?.kind === 'no-response') return reply({ result: { content: [{ type: 'text', text: '(no response)' }] } });
        return reply({ result: { content: [{ type: 'text', text: (options.defaultContent ?? ((t: string) => `echo: ${t}`))(task) }] } });
      }
      default:
        return reply({ error: { code: -32601, message: `method not found: ${message.method}` } });
    }
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    instance,
    requests,
    runs,
    enqueue: (...responses) => void queue.push(...responses),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function defaultMessage(status: number): string {
  return (
    {
      400: 'bad request',
      401: 'invalid API key',
      429: 'rate limit exceeded',
      500: 'agent run failed',
      502: 'bad gateway',
      503: 'service unavailable',
      504: 'timeout waiting for agent response',
    }[status] ?? `HTTP ${status}`
  );
}

/**
 * A flaky gateway in front of a real proxy: forwards requests unless told to fail the next ones. `forward-then-503`
 * lets the proxy start (and finish) the run and then loses its answer, which is exactly when only the
 * Idempotency-Key keeps a retry from starting a second run; `forward-then-hang` never answers at all.
 */
type FrontFault = 'forward-then-503' | 'forward-then-hang' | '503' | 'reset';

export interface FaultyFront {
  url: string;
  seen: { path: string; idempotencyKey?: string; fault?: FrontFault }[];
  enqueue(...faults: FrontFault[]): void;
  stop(): Promise<void>;
}

export async function startFaultyFront(target: string): Promise<FaultyFront> {
  const faults: FrontFault[] = [];
  const seen: FaultyFront['seen'] = [];
  const sockets = new Set<Socket>();
  const forward = (req: http.IncomingMessage, body: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const outgoing = http.request(new URL(req.url ?? '/', target), { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, async (res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of res) chunks.push(chunk as Buffer);
        resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) });
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const fault = req.url?.startsWith('/v1/chat/completions') ? faults.shift() : undefined;
    seen.push({ path: new URL(req.url ?? '/', 'http://front').pathname, idempotencyKey: req.headers['idempotency-key'] as string | undefined, fault });
    if (fault === 'reset') return req.socket.destroy();
    if (fault === '503') return void res.writeHead(503, { 'Content-Type': 'text/html' }).end('<html><body>503 Service Unavailable</body></html>');
    try {
      const answer = await forward(req, body);
      if (fault === 'forward-then-503') return void res.writeHead(503, { 'Content-Type': 'text/html' }).end('<html><body>upstream connect error</body></html>');
      // A proxy stuck after its run ended (upstream can hang until its 10-minute timeout): never answer.
      if (fault === 'forward-then-hang') return;
      res.writeHead(answer.status, answer.headers).end(answer.body);
    } catch {
      res.writeHead(502).end();
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    enqueue: (...more) => void faults.push(...more),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
