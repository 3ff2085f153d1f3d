import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AgentRun } from '../../sympozium/types.js';
import { parseGoDuration } from '../controller/timings.js';
import { BodyError, readBody, sendError, sendJson, startEventStream } from './http.js';
import { streamKey, type RunBroker } from './runs.js';

/**
 * The OpenAI-compatible routes. A chat request becomes one task AgentRun: the last user message is the task,
 * system messages are appended to the instance's system prompt, earlier turns are dropped and the request's
 * `model` is ignored, as upstream does. The answer is the run's result; a failed run is an error, never a 200
 * with empty content.
 */

export interface RouteContext {
  namespace: string;
  instance: string;
  broker: RunBroker;
  runTimeout: string;
  log: (line: string) => void;
  /** A line in the serving pod's web-proxy container log, as upstream's proxy writes it. */
  containerLog?: (message: string, fields: Record<string, string>) => void;
}

interface ChatMessage {
  role?: unknown;
  content?: unknown;
}

interface ParsedChat {
  task: string;
  systemMessages: string[];
  stream: boolean;
  includeUsage: boolean;
}

function parseChat(text: string): ParsedChat | string {
  let body: { messages?: unknown; stream?: unknown; stream_options?: { include_usage?: unknown } };
  try {
    body = JSON.parse(text);
  } catch {
    return 'invalid JSON body';
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the request body must be a JSON object';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages is required and must be a non-empty array';
  const messages = body.messages as ChatMessage[];
  for (const [index, message] of messages.entries()) {
    if (!message || typeof message !== 'object') return `messages[${index}] must be an object`;
    if (typeof message.role !== 'string') return `messages[${index}].role must be a string`;
    if (typeof message.content !== 'string') return `messages[${index}].content must be a string`;
  }
  const users = messages.filter((message) => message.role === 'user');
  if (users.length === 0) return 'no user message in messages';
  if (body.stream !== undefined && typeof body.stream !== 'boolean') return 'stream must be a boolean';
  return {
    task: users[users.length - 1]!.content as string,
    systemMessages: messages.filter((message) => message.role === 'system').map((message) => message.content as string),
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
  };
}

function usageOf(run: AgentRun) {
  const usage = run.status?.tokenUsage;
  const prompt = usage?.inputTokens ?? 0;
  const completion = usage?.outputTokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: usage?.totalTokens ?? prompt + completion };
}

function isTimeout(run: AgentRun): boolean {
  return /^timeout|timed out/i.test(run.status?.error ?? '');
}

/** How long the proxy waits for a run: its own timeout plus a grace period for the controller to record it. */
function waitLimitMs(runTimeout: string): number {
  return (parseGoDuration(runTimeout) ?? 600_000) + 30_000;
}

export async function chatCompletions(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): Promise<void> {
  let text: string;
  try {
    text = await readBody(req);
  } catch (error) {
    return sendError(res, error instanceof BodyError ? 413 : 400, (error as Error).message);
  }
  const parsed = parseChat(text);
  if (typeof parsed === 'string') return sendError(res, 400, parsed);
  const instance = ctx.broker.instance(ctx.namespace, ctx.instance);
  const model = instance?.spec.agents?.default?.model ?? 'unknown';
  const idempotencyHeader = req.headers['idempotency-key'];
  const idempotencyKey = Array.isArray(idempotencyHeader) ? idempotencyHeader[0] : idempotencyHeader;

  let runName: string;
  let reused: boolean;
  try {
    ({ name: runName, reused } = await ctx.broker.create({
      namespace: ctx.namespace,
      instance: ctx.instance,
      source: 'web',
      task: parsed.task,
      systemMessages: parsed.systemMessages,
      timeout: ctx.runTimeout,
      idempotency: idempotencyKey ? { key: idempotencyKey } : undefined,
    }));
  } catch (error) {
    ctx.log(`web proxy ${ctx.namespace}/${ctx.instance}: cannot create the AgentRun: ${(error as Error).message}`);
    return sendError(res, 500, `failed to start the agent run: ${(error as Error).message}`);
  }
  // internal/webproxy/openai.go (v0.10.46) logs each run it creates or reuses; v0.5.8 the ones it creates.
  ctx.containerLog?.(reused ? 'Reusing AgentRun for duplicate web request' : 'Created AgentRun from web request', { run: runName, instance: ctx.instance });

  const id = `chatcmpl-${runName}`;
  // Names the run for the access log, and for clients that want to follow it.
  res.setHeader('X-Sympozium-Run', runName);
  const created = Math.floor(Date.now() / 1000);
  const abort = new AbortController();
  const limit = setTimeout(() => abort.abort(new Error('timeout')), waitLimitMs(ctx.runTimeout));
  res.on('close', () => {
    if (!res.writableFinished) abort.abort(new Error('request cancelled'));
  });

  try {
    if (!parsed.stream) {
      let run: AgentRun;
      try {
        run = await ctx.broker.waitForEnd(ctx.namespace, runName, abort.signal);
      } catch (error) {
        return sendError(res, 504, `the agent run ${runName} did not finish: ${(error as Error).message}`);
      }
      if (run.status?.phase === 'Failed') {
        const message = `the agent run ${runName} failed: ${run.status?.error ?? 'unknown error'}`;
        return sendError(res, isTimeout(run) ? 504 : 500, message);
      }
      return sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: run.status?.result ?? '' }, finish_reason: 'stop' }],
        usage: usageOf(run),
      });
    }

    startEventStream(res);
    const chunk = (delta: Record<string, string>, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    let streamed = '';
    const unsubscribe = ctx.broker.streams.subscribe(streamKey(ctx.namespace, runName), (piece) => {
      res.write(chunk(streamed ? { content: piece } : { role: 'assistant', content: piece }, null));
      streamed += piece;
    });
    let run: AgentRun;
    try {
      run = await ctx.broker.waitForEnd(ctx.namespace, runName, abort.signal);
    } catch (error) {
      unsubscribe();
      res.end(`data: ${JSON.stringify({ error: { message: `the agent run ${runName} did not finish: ${(error as Error).message}`, type: 'agent_error' } })}\n\n`);
      return;
    }
    unsubscribe();
    if (run.status?.phase === 'Failed') {
      res.end(`data: ${JSON.stringify({ error: { message: `the agent run ${runName} failed: ${run.status?.error ?? 'unknown error'}`, type: 'agent_error' } })}\n\n`);
      return;
    }
    // The run's result is the truth; send whatever the live chunks did not cover (all of it after a restart).
    const result = run.status?.result ?? '';
    if (result.startsWith(streamed) && result.length > streamed.length) {
      const rest = result.slice(streamed.length);
      res.write(chunk(streamed ? { content: rest } : { role: 'assistant', content: rest }, null));
    }
    res.write(chunk({}, 'stop'));
    if (parsed.includeUsage) {
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: usageOf(run) })}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  } finally {
    clearTimeout(limit);
  }
}

export function listModels(res: ServerResponse, ctx: RouteContext): void {
  const instance = ctx.broker.instance(ctx.namespace, ctx.instance);
  const created = Math.floor(new Date(instance?.metadata.creationTimestamp ?? Date.now()).getTime() / 1000);
  sendJson(res, 200, {
    object: 'list',
    data: [{ id: instance?.spec.agents?.default?.model ?? 'unknown', object: 'model', created, owned_by: 'sympozium' }],
  });
}
