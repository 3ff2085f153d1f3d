// MCP sits beside openai/ in the bottom layer and shares its HTTP transport, SSE reader, retry policy and error
// mapping (one way of talking to the web endpoint); openai/ never imports mcp/.
import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError } from '../errors.js';
import { shortDuration } from '../duration.js';
import { connectionFailure, EndpointError, httpError } from '../openai/errors.js';
import type { EndpointTarget } from '../openai/client.js';
import { readText, send, socketCode } from '../openai/http.js';
import { defaultRetryPolicy, parseRetryAfter, retryDelay } from '../openai/retry.js';
import { readServerSentEvents } from '../openai/sse.js';

/**
 * Statuses worth another try. Opening the stream has no side effects, so a busy gateway is retried too; a
 * POST is retried only on 429, which the proxy answers before it starts anything (no second run).
 */
const retryOpen = new Set([429, 502, 503]);
const retryPost = new Set([429]);

/**
 * A small MCP client for the web endpoint's HTTP+SSE transport (protocol 2024-11-05): `GET /sse` answers
 * with an `endpoint` event naming where to POST JSON-RPC requests, and the responses come back as `message`
 * events on the same stream. It follows what the MCP TypeScript SDK's Client and SSEClientTransport do
 * (initialize, then notifications/initialized, then requests; the endpoint resolved against the SSE URL).
 * The SDK is only a devDependency (the tests use it as the reference server side and client), because the
 * CLI must not carry it at run time: it pulls in zod, express-style helpers and more than a one-shot
 * command should load.
 */

const mcpProtocolVersion = '2024-11-05';
/** Versions whose tools/list and tools/call look the same to us. */
const knownProtocolVersions = new Set(['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25']);

export interface McpTool {
  name: string;
  description?: string;
  inputSchema?: { type?: string; properties?: Record<string, { type?: string; description?: string }>; required?: string[] };
}

interface McpContent {
  type: string;
  text?: string;
  mimeType?: string;
  [key: string]: unknown;
}

export interface McpCallResult {
  content?: McpContent[];
  isError?: boolean;
  structuredContent?: unknown;
}

interface JsonRpcResponse {
  jsonrpc: '2.0';
  id?: number | string;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
  method?: string;
}

export class McpSession {
  serverInfo?: { name?: string; version?: string };
  protocolVersion?: string;
  private endpoint?: URL;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private stream?: http.IncomingMessage;
  private closed = false;
  private streamError?: Error;

  private constructor(
    private readonly target: EndpointTarget,
    private readonly signal: AbortSignal,
    private readonly debug?: (message: string) => void,
    private readonly onRetry?: (message: string) => void,
  ) {}

  /** Opens the SSE stream, waits for the endpoint, and runs the initialize handshake. */
  static async connect(
    target: EndpointTarget,
    options: { signal: AbortSignal; debug?: (message: string) => void; onRetry?: (message: string) => void; clientVersion?: string },
  ): Promise<McpSession> {
    const session = new McpSession(target, options.signal, options.debug, options.onRetry);
    await session.open();
    const init = (await session.request('initialize', {
      protocolVersion: mcpProtocolVersion,
      capabilities: {},
      clientInfo: { name: 'sympozium-cli', version: options.clientVersion ?? '0' },
    })) as { protocolVersion?: string; serverInfo?: { name?: string; version?: string } };
    session.protocolVersion = init?.protocolVersion;
    session.serverInfo = init?.serverInfo;
    if (init?.protocolVersion && !knownProtocolVersions.has(init.protocolVersion)) {
      session.close();
      throw new CliError(`the MCP server speaks protocol ${init.protocolVersion}, which this sympozium does not know`, {
        hint: `sympozium speaks ${[...knownProtocolVersions].join(', ')}; upgrade sympozium.`,
      });
    }
    options.debug?.(`MCP: ${init?.serverInfo?.name ?? 'server'} ${init?.serverInfo?.version ?? ''}, protocol ${init?.protocolVersion}`);
    await session.notify('notifications/initialized');
    return session;
  }

  async listTools(): Promise<McpTool[]> {
    const tools: McpTool[] = [];
    let cursor: string | undefined;
    do {
      const page = (await this.request('tools/list', cursor ? { cursor } : {})) as { tools?: McpTool[]; nextCursor?: string };
      tools.push(...(page?.tools ?? []));
      cursor = page?.nextCursor || undefined;
    } while (cursor);
    return tools;
  }

  async callTool(name: string, args: Record<string, unknown>): Promise<McpCallResult> {
    return (await this.request('tools/call', { name, arguments: args })) as McpCallResult;
  }

  close(): void {
    this.closed = true;
    this.stream?.destroy();
    for (const waiter of this.pending.values()) waiter.reject(new CliError('the MCP session was closed'));
    this.pending.clear();
  }

  async request(method: string, params: unknown): Promise<unknown> {
    const id = this.nextId++;
    const answer = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    // A rejection that arrives before the caller awaits must not count as unhandled.
    answer.catch(() => {});
    try {
      await this.post({ jsonrpc: '2.0', id, method, params });
    } catch (error) {
      this.pending.delete(id);
      throw error;
    }
    return answer;
  }

  async notify(method: string, params?: unknown): Promise<void> {
    await this.post({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return { Authorization: `Bearer ${this.target.apiKey}`, 'User-Agent': 'sympozium-cli', ...extra };
  }

  private async open(): Promise<void> {
    const url = new URL(`${this.target.baseUrl}/sse`);
    let response: http.IncomingMessage;
    try {
      response = await this.sendRetrying('GET /sse', retryOpen, () => send({ url, headers: this.headers({ Accept: 'text/event-stream' }), signal: this.signal }));
    } catch (error) {
      const code = socketCode(error);
      throw code ? connectionFailure(error, this.target, code) : error;
    }
    this.debug?.(`GET /sse -> ${response.statusCode}`);
    if ((response.statusCode ?? 0) >= 300) throw httpError(response.statusCode ?? 0, await readText(response).catch(() => ''), this.target, 'GET /sse');
    this.stream = response;

    const events = readServerSentEvents(response)[Symbol.asyncIterator]();
    const first = await events.next();
    if (first.done || first.value.event !== 'endpoint') {
      response.destroy();
      throw new EndpointError('the MCP stream did not start with an endpoint event', {
        hint: 'Is this a Sympozium web endpoint? Its /sse speaks the MCP HTTP+SSE transport (2024-11-05).',
      });
    }
    this.endpoint = this.resolveEndpoint(first.value.data.trim(), url);
    this.debug?.(`MCP endpoint: ${this.endpoint.pathname}${this.endpoint.search.replace(/sessionId=[^&]+/, 'sessionId=…')}`);
    void this.pump(events);
  }

  /**
   * The SDK resolves the endpoint against the SSE URL and refuses another origin. Behind a port-forward or a
   * gateway, a proxy that names its own absolute address would be unreachable, so keep only its path.
   */
  private resolveEndpoint(data: string, sseUrl: URL): URL {
    const resolved = new URL(data, sseUrl);
    if (resolved.origin === sseUrl.origin) return resolved;
    this.debug?.(`MCP endpoint names ${resolved.origin}; using its path on ${sseUrl.origin}`);
    return new URL(`${resolved.pathname}${resolved.search}`, sseUrl);
  }

  private async pump(events: AsyncIterator<{ event?: string; data: string }>): Promise<void> {
    try {
      for (let next = await events.next(); !next.done; next = await events.next()) {
        const { event, data } = next.value;
        if (event !== undefined && event !== 'message') continue;
        let message: JsonRpcResponse;
        try {
          message = JSON.parse(data);
        } catch {
          this.debug?.(`MCP: ignoring an event that is not JSON`);
          continue;
        }
        if (message.id === undefined || message.method) continue;
        const waiter = this.pending.get(Number(message.id));
        if (!waiter) continue;
        this.pending.delete(Number(message.id));
        if (message.error) waiter.reject(new EndpointError(`the MCP server refused: ${message.error.message} (${message.error.code})`, { serverMessage: message.error.message }));
        else waiter.resolve(message.result);
      }
    } catch (error) {
      this.streamError = error as Error;
    }
    if (this.closed) return;
    const reason = this.signal.aborted ? this.signal.reason : new EndpointError(`the MCP stream closed before the answer came${this.streamError ? `: ${this.streamError.message}` : ''}`, {});
    for (const waiter of this.pending.values()) waiter.reject(reason);
    this.pending.clear();
    this.closed = true;
  }

  /** Sends, and on a retryable status waits (Retry-After, else backoff with jitter) and sends again, within the policy's bounds. */
  private async sendRetrying(what: string, statuses: Set<number>, make: () => Promise<http.IncomingMessage>): Promise<http.IncomingMessage> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const response = await make();
      const status = response.statusCode ?? 0;
      if (!statuses.has(status) || attempt >= defaultRetryPolicy.maxAttempts) return response;
      const delay = retryDelay(defaultRetryPolicy, attempt, { status, retryAfterMs: parseRetryAfter(response.headers['retry-after']) });
      if (Date.now() - started + delay > defaultRetryPolicy.maxTotalWaitMs) return response;
      response.resume();
      this.onRetry?.(`${what}: HTTP ${status}${status === 429 ? ' (rate limited)' : ''}, trying again in ${shortDuration(delay)} (attempt ${attempt + 1})`);
      await sleep(delay, undefined, { signal: this.signal });
    }
  }

  private async post(message: unknown): Promise<void> {
    if (!this.endpoint) throw new Error('MCP session not open');
    if (this.closed) throw this.signal.aborted ? this.signal.reason : new EndpointError('the MCP stream closed', {});
    let response: http.IncomingMessage;
    try {
      const endpoint = this.endpoint;
      response = await this.sendRetrying(`POST ${endpoint.pathname}`, retryPost, () =>
        send({ url: endpoint, method: 'POST', headers: this.headers({ 'Content-Type': 'application/json' }), body: JSON.stringify(message), signal: this.signal }),
      );
    } catch (error) {
      const code = socketCode(error);
      throw code ? connectionFailure(error, this.target, code) : error;
    }
    const text = await readText(response).catch(() => '');
    if ((response.statusCode ?? 0) >= 300) throw httpError(response.statusCode ?? 0, text, this.target, `POST ${this.endpoint.pathname}`);
  }
}
