import type { IncomingMessage, ServerResponse } from 'node:http';
import { compactRaw, goDecode, goMarshal, GoJsonError, goStore, goUnmarshalRaw, type GoValue } from './go-json.js';
import { BodyError, readBody, sendError, startEventStream } from './http.js';
import type { RouteContext } from './openai.js';
import { unixNano } from './runs.js';

/**
 * MCP as internal/webproxy/mcp.go serves it (the same at v0.5.8 and v0.10.46), HTTP+SSE of protocol 2024-11-05:
 *
 * - `GET /sse` opens a session `mcp-<unix nanos>` and sends `event: endpoint` with `/message?sessionId=...`; no
 *   keep-alive comments;
 * - `POST /message?sessionId=...`: an unknown session is 400 "invalid or expired session", a body Go cannot
 *   decode is 400 "invalid JSON-RPC request: <Go's error>"; otherwise the request is handled to the end (a
 *   tools/call waits for its run), the response goes out as `event: message` on the session's stream, and only
 *   then is the POST answered 202 with no body. Every request is answered, notifications included (their id
 *   is null), and an unknown method is -32601 "method not found: <method>" (ping too);
 * - tools/call does not look at the tool's name: params that are not an object are -32602 "invalid params",
 *   missing or non-object arguments -32602 "invalid arguments", and the task (empty if absent) becomes an
 *   AgentRun; the result is {content: [{type: text, text}]} with no isError, the text being the completion's
 *   response or "(no response)"; a failure event is -32603 "agent run failed: <error>", ten minutes without an
 *   answer -32603 "agent run timed out".
 */

const requestType = {
  go: 'struct',
  name: 'webproxy.JSONRPCRequest',
  fields: { jsonrpc: { go: 'string' }, id: { go: 'raw' }, method: { go: 'string' }, params: { go: 'raw' } },
} as const;

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class McpSessions {
  private readonly sessions = new Map<string, ServerResponse>();

  open(res: ServerResponse): void {
    const id = `mcp-${unixNano()}`;
    startEventStream(res);
    res.write(`event: endpoint\ndata: /message?sessionId=${id}\n\n`);
    this.sessions.set(id, res);
    res.on('close', () => this.sessions.delete(id));
  }

  closeAll(): void {
    for (const res of this.sessions.values()) res.end();
    this.sessions.clear();
  }

  async message(req: IncomingMessage, res: ServerResponse, url: URL, ctx: RouteContext): Promise<void> {
    const stream = this.sessions.get(url.searchParams.get('sessionId') ?? '');
    if (!stream) return sendError(res, 400, 'invalid or expired session');
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (error) {
      return sendError(res, error instanceof BodyError ? 413 : 400, (error as Error).message);
    }
    let request: { id?: string; method?: string; params?: string };
    try {
      request = goStore(goDecode(body), requestType) as typeof request;
    } catch (error) {
      if (!(error instanceof GoJsonError)) throw error;
      return sendError(res, 400, `invalid JSON-RPC request: ${error.message}`);
    }
    // JSONRPCResponse{JSONRPC, ID json.RawMessage, Result omitempty, Error omitempty}: a missing id is null.
    let tail: string;
    try {
      tail = `"result":${goMarshal(await this.dispatch(request, ctx, res))}`;
    } catch (error) {
      const rpc = error instanceof RpcError ? error : new RpcError(-32603, (error as Error).message);
      tail = `"error":${goMarshal({ code: rpc.code, message: rpc.message })}`;
    }
    const id = request.id === undefined ? 'null' : compactRaw(request.id);
    if (!stream.destroyed) stream.write(`event: message\ndata: {"jsonrpc":"2.0","id":${id},${tail}}\n\n`);
    if (!res.destroyed) res.writeHead(202, { 'Content-Length': '0' }).end();
  }

  private async dispatch(request: { method?: string; params?: string }, ctx: RouteContext, res: ServerResponse): Promise<unknown> {
    switch (request.method ?? '') {
      case 'initialize':
        // Go marshals these maps with their keys sorted.
        return { capabilities: { tools: {} }, protocolVersion: '2024-11-05', serverInfo: { name: 'sympozium-agent', version: '1.0.0' } };
      case 'tools/list': {
        if (!ctx.broker.instance(ctx.namespace, ctx.instance)) throw new RpcError(-32603, ctx.broker.notFound(ctx.instance));
        const task = { description: 'The task or question for the agent', type: 'string' };
        return { tools: [{ description: `Send a task to the ${ctx.instance} agent`, inputSchema: { properties: { task }, required: ['task'], type: 'object' }, name: 'ask_agent' }] };
      }
      case 'tools/call':
        return this.callTool(request.params, ctx, res);
      case 'completion/complete':
        return { completion: { values: [] } };
      default:
        throw new RpcError(-32601, `method not found: ${request.method ?? ''}`);
    }
  }

  private async callTool(rawParams: string | undefined, ctx: RouteContext, res: ServerResponse): Promise<unknown> {
    let args: string | undefined;
    try {
      args = (goStore(goUnmarshalRaw(rawParams), { go: 'struct', name: 'struct', fields: { name: { go: 'string' }, arguments: { go: 'raw' } } }) as { arguments?: string }).arguments;
    } catch {
      throw new RpcError(-32602, 'invalid params');
    }
    let task: string;
    try {
      const value: GoValue = goUnmarshalRaw(args);
      task = ((goStore(value, { go: 'struct', name: 'struct', fields: { task: { go: 'string' } } }) as { task?: string }).task ?? '');
    } catch {
      throw new RpcError(-32602, 'invalid arguments');
    }
    // executeAgentTask: get the instance, create the run, then subscribe and wait (in that order).
    if (!ctx.broker.instance(ctx.namespace, ctx.instance)) throw new RpcError(-32603, ctx.broker.notFound(ctx.instance));
    let name: string;
    try {
      name = await ctx.broker.create({ namespace: ctx.namespace, instance: ctx.instance, source: 'mcp', task, timeout: ctx.runTimeout });
    } catch (error) {
      throw new RpcError(-32603, `failed to create agent run: ${(error as Error).message}`);
    }
    ctx.containerLog?.('Created AgentRun from MCP request', { run: name, instance: ctx.instance });
    ctx.noteRun?.(name);
    const events = ctx.broker.events(ctx.namespace);
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, ctx.proxyTimeoutMs);
    const onClose = () => abort.abort();
    res.on('close', onClose);
    try {
      const event = await events.next(name, abort.signal);
      if (!event) throw new RpcError(-32603, timedOut ? 'agent run timed out' : 'context canceled');
      if (event.topic === 'agent.run.failed') throw new RpcError(-32603, `agent run failed: ${String(event.data.error ?? '')}`);
      const response = typeof event.data.response === 'string' ? event.data.response : '';
      return { content: [{ text: response || '(no response)', type: 'text' }] };
    } finally {
      clearTimeout(timer);
      res.off('close', onClose);
      events.close();
    }
  }
}
