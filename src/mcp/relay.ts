import type http from 'node:http';
import type { EndpointTarget } from '../openai/client.js';
import { serverMessageOf } from '../openai/errors.js';
import { keepAliveAgent, readText, send, socketCode } from '../openai/http.js';
import { readServerSentEvents } from '../openai/sse.js';

/**
 * The endpoint's MCP server offered over stdio, for the clients that launch one (Claude Code, Claude Desktop,
 * Cursor): JSON-RPC messages, one per line, on stdin and stdout (the MCP stdio transport), relayed as they
 * are to the endpoint's HTTP+SSE transport (`GET /sse`, then `POST` to the endpoint it names). The messages
 * are not interpreted, so the client and the server negotiate between themselves; the relay only keeps what
 * it needs to carry on when the SSE session is lost (the proxy's pod restarted): the client's `initialize`,
 * sent again on a new session before the next message, and the requests in flight, answered with an error.
 *
 * Not the MCP SDK's StdioServerTransport: bundled it adds ~240 KB and ~35 ms of start-up (zod validating
 * every message), for framing that is one JSON object per line.
 */

interface Message {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

interface Session {
  endpoint: URL;
  stream: http.IncomingMessage;
}

export interface RelayOptions {
  target: EndpointTarget;
  input: NodeJS.ReadableStream;
  /** Writes one line (a JSON-RPC message) to the client. */
  write(line: string): void;
  signal: AbortSignal;
  debug?: (message: string) => void;
  /** Reads the key again after a 401 (see keyRefresher); true when it changed, so the request is sent once more. */
  refreshKey?: () => Promise<boolean>;
  /** Something the user should know: a lost session, an unreachable endpoint. */
  notice?: (message: string) => void;
}

const internalError = -32603;
const parseError = -32700;

export async function relayStdio(options: RelayOptions): Promise<void> {
  const { target } = options;
  const agent = await keepAliveAgent(new URL(target.baseUrl));
  const headers = (extra: Record<string, string>) => ({ Authorization: `Bearer ${target.apiKey}`, 'User-Agent': 'sympozium-cli', ...extra });
  /** Requests of the client still waiting for their answer, by JSON id. */
  const pending = new Map<string, string | number>();
  /** Answers to wait for that are the relay's own (a replayed initialize); they never reach the client. */
  const own = new Map<string, (message: Message) => void>();
  let initialize: Message | undefined;
  let session: Session | undefined;
  let opening: Promise<Session> | undefined;
  let sessions = 0;
  let closed = false;
  let replays = 0;

  const reply = (id: string | number, code: number, message: string) => options.write(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } }));

  const open = async (): Promise<Session> => {
    const url = new URL(`${target.baseUrl}/sse`);
    let response = await send({ url, headers: headers({ Accept: 'text/event-stream' }), signal: options.signal, agent });
    if (response.statusCode === 401 && options.refreshKey && (await options.refreshKey().catch(() => false))) {
      response.resume();
      response = await send({ url, headers: headers({ Accept: 'text/event-stream' }), signal: options.signal, agent });
    }
    if ((response.statusCode ?? 0) >= 300) {
      const text = await readText(response).catch(() => '');
      throw new Error(`GET /sse: HTTP ${response.statusCode}${serverMessageOf(text) ? `: ${serverMessageOf(text)}` : ''}`);
    }
    const events = readServerSentEvents(response)[Symbol.asyncIterator]();
    const first = await events.next();
    if (first.done || first.value.event !== 'endpoint') {
      response.destroy();
      throw new Error('the MCP stream did not start with an endpoint event (is this a Sympozium web endpoint?)');
    }
    // Kept on this origin, as McpSession does: behind a port-forward an absolute address of the server's own is unreachable.
    const named = new URL(first.value.data.trim(), url);
    const endpoint = named.origin === url.origin ? named : new URL(`${named.pathname}${named.search}`, url);
    const opened: Session = { endpoint, stream: response };
    sessions++;
    options.debug?.(`MCP: session ${sessions} open, posting to ${endpoint.pathname}`);
    void pump(opened, events);
    return opened;
  };

  const pump = async (current: Session, events: AsyncIterator<{ event?: string; data: string }>) => {
    try {
      for (let next = await events.next(); !next.done; next = await events.next()) {
        const { event, data } = next.value;
        if (event !== undefined && event !== 'message') continue;
        let message: Message;
        try {
          message = JSON.parse(data) as Message;
        } catch {
          options.debug?.('MCP: ignoring an event that is not JSON');
          continue;
        }
        const key = message.id === undefined || message.id === null || message.method ? undefined : JSON.stringify(message.id);
        if (key && own.has(key)) {
          own.get(key)!(message);
          own.delete(key);
          continue;
        }
        if (key) pending.delete(key);
        options.write(JSON.stringify(message));
      }
    } catch (error) {
      if (!closed) options.debug?.(`MCP: the stream failed: ${(error as Error).message}`);
    }
    if (session === current) session = undefined;
    if (closed) return;
    // Whatever was asked on the lost session will never be answered there.
    if (pending.size > 0) options.notice?.(`the MCP session with ${target.instance} was lost; ${pending.size} request(s) failed, the next one opens a new session`);
    else options.debug?.('MCP: the session was lost; the next message opens a new one');
    for (const id of pending.values()) reply(id, internalError, 'the MCP session with the endpoint was lost (did its pod restart?); try again');
    pending.clear();
  };

  const post = async (current: Session, message: Message): Promise<void> => {
    const attempt = () =>
      send({ url: current.endpoint, method: 'POST', headers: headers({ 'Content-Type': 'application/json' }), body: JSON.stringify(message), signal: options.signal, agent });
    let response = await attempt();
    // A 401 comes before the server looks at the message, so sending it again with a new key runs nothing twice.
    if (response.statusCode === 401 && options.refreshKey && (await options.refreshKey().catch(() => false))) {
      response.resume();
      response = await attempt();
    }
    const text = await readText(response).catch(() => '');
    if ((response.statusCode ?? 0) >= 300) throw new Error(`HTTP ${response.statusCode}${serverMessageOf(text) ? `: ${serverMessageOf(text)}` : ''}`);
  };

  /** The session to post on: the open one, else a new one, told about the client's initialize first. */
  const ready = async (message: Message): Promise<Session> => {
    if (session) return session;
    opening ??= (async () => {
      const fresh = await open();
      if (initialize && message !== initialize) {
        const id = `sympozium-relay-${++replays}`;
        const answered = new Promise<Message>((resolve) => own.set(JSON.stringify(id), resolve));
        await post(fresh, { ...initialize, id });
        await Promise.race([answered, new Promise((resolve) => setTimeout(resolve, 30_000))]);
        await post(fresh, { jsonrpc: '2.0', method: 'notifications/initialized' });
        options.debug?.('MCP: the new session is initialized as the client initialized the first');
      }
      return fresh;
    })().finally(() => (opening = undefined));
    session = await opening;
    return session;
  };

  const forward = async (line: string): Promise<void> => {
    let message: Message;
    try {
      message = JSON.parse(line) as Message;
    } catch {
      options.write(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: parseError, message: 'Parse error: not a JSON-RPC message' } }));
      return;
    }
    const isRequest = message.method !== undefined && message.id !== undefined && message.id !== null;
    if (message.method === 'initialize') initialize = message;
    if (isRequest) pending.set(JSON.stringify(message.id), message.id!);
    try {
      await post(await ready(message), message);
    } catch (error) {
      if (closed) return;
      const code = socketCode(error);
      const why = code ? `the endpoint cannot be reached (${code})` : (error as Error).message;
      options.notice?.(`MCP ${message.method ?? 'message'}: ${why}`);
      if (isRequest) {
        pending.delete(JSON.stringify(message.id));
        reply(message.id!, internalError, `sympozium: ${why}`);
      }
    }
  };

  // One message at a time, in order: initialize must reach the server before what follows it.
  let chain = Promise.resolve();
  const { createInterface } = await import('node:readline');
  const lines = createInterface({ input: options.input, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim()) chain = chain.then(() => forward(line));
  });
  await new Promise<void>((resolve) => {
    lines.once('close', () => resolve());
    options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await chain;
  closed = true;
  session?.stream.destroy();
  agent.destroy();
}
