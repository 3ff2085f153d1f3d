import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseGoDuration } from '../controller/timings.js';
import { BodyError, readBody, sendError, startEventStream } from './http.js';
import type { RouteContext } from './openai.js';

/**
 * MCP over the HTTP+SSE transport of protocol 2024-11-05: `GET /sse` opens a session and announces where to
 * POST (`event: endpoint`), requests arrive on `POST /message?sessionId=...` (answered 202) and their responses
 * go back as `event: message` on the session's stream. One tool, `ask_agent`, runs its task as an AgentRun.
 */

const protocolVersion = '2024-11-05';
const keepAliveMs = 15_000;

interface JsonRpcRequest {
  jsonrpc?: string;
  id?: string | number | null;
  method?: unknown;
  params?: Record<string, unknown>;
}

const askAgentTool = {
  name: 'ask_agent',
  description: 'Ask the Sympozium agent to perform a task and return its answer.',
  inputSchema: {
    type: 'object',
    properties: { task: { type: 'string', description: 'What the agent should do.' } },
    required: ['task'],
  },
};

export class McpSessions {
  private readonly sessions = new Map<string, ServerResponse>();

  constructor(private readonly version: string) {}

  open(res: ServerResponse): void {
    const id = randomUUID();
    startEventStream(res);
    res.write(`event: endpoint\ndata: /message?sessionId=${id}\n\n`);
    this.sessions.set(id, res);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
    keepAlive.unref?.();
    res.on('close', () => {
      clearInterval(keepAlive);
      this.sessions.delete(id);
    });
  }

  closeAll(): void {
    for (const res of this.sessions.values()) res.end();
    this.sessions.clear();
  }

  async message(req: IncomingMessage, res: ServerResponse, url: URL, ctx: RouteContext): Promise<void> {
    const sessionId = url.searchParams.get('sessionId') ?? '';
    const stream = this.sessions.get(sessionId);
    if (!stream) return sendError(res, 404, `unknown MCP session "${sessionId}": open one with GET /sse first`);
    let text: string;
    try {
      text = await readBody(req);
    } catch (error) {
      return sendError(res, error instanceof BodyError ? 413 : 400, (error as Error).message);
    }
    let message: JsonRpcRequest;
    try {
      message = JSON.parse(text);
    } catch {
      return sendError(res, 400, 'invalid JSON body');
    }
    if (!message || typeof message !== 'object' || typeof message.method !== 'string') {
      // A response from the client (to a request we never send) or garbage: acknowledge and ignore it.
      if (message && typeof message === 'object' && ('result' in message || 'error' in message)) {
        res.writeHead(202).end('Accepted');
        return;
      }
      return sendError(res, 400, 'not a JSON-RPC request');
    }
    res.writeHead(202, { 'Content-Type': 'text/plain' }).end('Accepted');
    if (message.id === undefined || message.id === null) return; // a notification: nothing to answer
    const reply = (body: Record<string, unknown>) => {
      if (!stream.destroyed) stream.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: message.id, ...body })}\n\n`);
    };
    try {
      reply({ result: await this.dispatch(message, ctx) });
    } catch (error) {
      const rpc = error as { rpcCode?: number; message: string };
      reply({ error: { code: rpc.rpcCode ?? -32603, message: rpc.message } });
    }
  }

  private async dispatch(message: JsonRpcRequest, ctx: RouteContext): Promise<unknown> {
    switch (message.method) {
      case 'initialize':
        return {
          protocolVersion,
          capabilities: { tools: { listChanged: false }, completions: {} },
          serverInfo: { name: 'sympozium-agent', version: this.version },
          instructions: `The Sympozium instance ${ctx.instance}: call ask_agent with a task.`,
        };
      case 'ping':
        return {};
      case 'tools/list':
        return { tools: [askAgentTool] };
      case 'completion/complete':
        return { completion: { values: [], total: 0, hasMore: false } };
      case 'tools/call':
        return this.callTool(message.params ?? {}, ctx);
      default:
        throw Object.assign(new Error(`Method not found: ${String(message.method)}`), { rpcCode: -32601 });
    }
  }

  private async callTool(params: Record<string, unknown>, ctx: RouteContext): Promise<unknown> {
    if (params.name !== askAgentTool.name) {
      throw Object.assign(new Error(`Unknown tool: ${String(params.name)}`), { rpcCode: -32602 });
    }
    const task = (params.arguments as { task?: unknown } | undefined)?.task;
    if (typeof task !== 'string' || !task.trim()) {
      throw Object.assign(new Error('ask_agent needs a string argument "task"'), { rpcCode: -32602 });
    }
    const { name } = await ctx.broker.create({
      namespace: ctx.namespace,
      instance: ctx.instance,
      source: 'mcp',
      task,
      systemMessages: [],
      timeout: ctx.runTimeout,
    });
    // As internal/webproxy/mcp.go logs it (v0.5.8 and v0.10.46).
    ctx.containerLog?.('Created AgentRun from MCP request', { run: name, instance: ctx.instance });
    const run = await ctx.broker.waitForEnd(ctx.namespace, name, AbortSignal.timeout((parseGoDuration(ctx.runTimeout) ?? 600_000) + 30_000));
    // As executeAgentTask in internal/webproxy/mcp.go (v0.5.8 and v0.10.46): a failed run is a JSON-RPC error
    // (-32603, "agent run failed: <error>"), not a tool result, and an empty answer is the text "(no response)".
    if (run.status?.phase === 'Failed') {
      throw Object.assign(new Error(`agent run failed: ${run.status.error ?? ''}`), { rpcCode: -32603 });
    }
    return { content: [{ type: 'text', text: run.status?.result || '(no response)' }] };
  }
}
