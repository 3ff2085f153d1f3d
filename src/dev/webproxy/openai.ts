import type { IncomingMessage, ServerResponse } from 'node:http';
import { topics } from '../providers/streams.js';
import { goDecode, goMarshal, GoJsonError, goStore, type GoType } from './go-json.js';
import { BodyError, readBody, sendError, sendJson, startEventStream } from './http.js';
import { webRequestHash, type RunBroker, type RunEvents } from './runs.js';

/**
 * The OpenAI-compatible routes, as internal/webproxy/openai.go answers them (v0.5.8 4a6f5f1, v0.10.46 8b74fa0;
 * the two differ only in v0.10's request hash and run reuse):
 *
 * - the body is decoded with Go's json.Decoder into {model, messages[{role, content}], stream}: a bad body is
 *   400 "invalid request: <Go's error>"; no messages is "messages array is required"; the task is the content of
 *   the last user message and an empty one is "no user message found"; system messages join the instance's
 *   memory.systemPrompt; the request's model, earlier turns and every other field are ignored;
 * - blocking: 200 {id: chatcmpl-<run>, object, created, model, choices[{index, message, finish_reason: stop}]}
 *   with no usage, the content being the completion's response, else the chunks seen, else "(no response)";
 *   a failure event is 500 "agent run failed: <error>"; ten minutes without either is 504 "agent run timed out";
 * - stream: the headers at once, then one chunk per stream-chunk event (the agent writes one, with the whole
 *   answer; its `model` is "" and its delta {role: assistant, content}), then on completion a stop chunk whose
 *   delta is {role: "", content: ""} and `data: [DONE]`; a failure is one `{"error":{"message","type":
 *   "agent_error"}}` event and the end, with no [DONE]; the timeout just ends the stream.
 */

export interface RouteContext {
  namespace: string;
  instance: string;
  broker: RunBroker;
  /** v0.5.8's spec.timeout for the runs (upstream: always 10m). */
  runTimeout: string;
  /** How long a request waits for its run's completion (upstream: 10 minutes). */
  proxyTimeoutMs: number;
  log: (line: string) => void;
  /** A line in the serving pod's web-proxy container log, as upstream's proxy writes it. */
  containerLog?: (message: string, fields: Record<string, string>) => void;
  /** Names the run a request created or reused, for dev's access log. */
  noteRun?: (run: string) => void;
}

const chatMessage: GoType = { go: 'struct', name: 'webproxy.ChatMessage', fields: { role: { go: 'string' }, content: { go: 'string' } } };
const chatRequest = {
  go: 'struct',
  name: 'webproxy.ChatCompletionRequest',
  fields: { model: { go: 'string' }, messages: { go: 'slice', name: '[]webproxy.ChatMessage', of: chatMessage }, stream: { go: 'bool' } },
} as const satisfies GoType;

interface ChatRequest {
  messages?: { role?: string; content?: string }[];
  stream?: boolean;
}

/** Aborts when the proxy's own timeout passes or the client goes away (Go's r.Context()). */
function requestSignal(res: ServerResponse, timeoutMs: number): { signal: AbortSignal; timedOut: () => boolean; done: () => void } {
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, timeoutMs);
  const onClose = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.on('close', onClose);
  return {
    signal: abort.signal,
    timedOut: () => timedOut,
    done: () => {
      clearTimeout(timer);
      res.off('close', onClose);
    },
  };
}

export async function chatCompletions(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch (error) {
    return sendError(res, error instanceof BodyError ? 413 : 400, (error as Error).message);
  }
  let parsed: ChatRequest;
  try {
    parsed = goStore(goDecode(body), chatRequest) as ChatRequest;
  } catch (error) {
    if (!(error instanceof GoJsonError)) throw error;
    return sendError(res, 400, `invalid request: ${error.message}`);
  }
  const messages = parsed.messages ?? [];
  if (messages.length === 0) return sendError(res, 400, 'messages array is required');
  const systemParts: string[] = [];
  let task = '';
  for (const message of messages) {
    if (message.role === 'system') systemParts.push(message.content ?? '');
    else if (message.role === 'user') task = message.content ?? '';
  }
  if (task === '') return sendError(res, 400, 'no user message found');
  const instance = ctx.broker.instance(ctx.namespace, ctx.instance);
  if (!instance) return sendError(res, 500, `failed to get instance: ${ctx.broker.notFound(ctx.instance)}`);
  const memoryPrompt = instance.spec.memory?.systemPrompt;
  const systemPrompt = (memoryPrompt ? [memoryPrompt, ...systemParts] : systemParts).join('\n\n');
  const model = instance.spec.agents?.default?.model ?? '';

  // Subscribed before the run is looked up or created, as v0.10's handler does ("eliminates the race where a run
  // completes between the lookup and the subscribe"); v0.5.8 subscribes just after creating it, which in dev,
  // where a run starts a scheduling delay later, comes to the same.
  const events = ctx.broker.events(ctx.namespace);
  try {
    let runName: string | undefined;
    let requestHash: string | undefined;
    if (ctx.broker.profile.webProxyV010) {
      const header = req.headers['idempotency-key'];
      requestHash = webRequestHash(Array.isArray(header) ? header[0] : header, instance.metadata.name, model, systemPrompt, task);
      runName = ctx.broker.recentRun(ctx.namespace, instance.metadata.name, requestHash)?.metadata.name;
      if (runName) ctx.containerLog?.('Reusing AgentRun for duplicate web request', { run: runName, instance: ctx.instance, requestHash });
    }
    if (!runName) {
      try {
        runName = await ctx.broker.create({ namespace: ctx.namespace, instance: ctx.instance, source: 'web', task, systemPrompt, timeout: ctx.runTimeout, requestHash });
      } catch (error) {
        return sendError(res, 500, `failed to create agent run: ${(error as Error).message}`);
      }
      ctx.containerLog?.('Created AgentRun from web request', { run: runName, instance: ctx.instance });
    }
    ctx.noteRun?.(runName);
    if (parsed.stream) await streamResponse(res, runName, events, ctx);
    else await blockingResponse(res, runName, model, events, ctx);
  } finally {
    events.close();
  }
}

const unix = () => Math.floor(Date.now() / 1000);

async function streamResponse(res: ServerResponse, runName: string, events: RunEvents, ctx: RouteContext): Promise<void> {
  startEventStream(res);
  events.subscribe(topics.chunk);
  const wait = requestSignal(res, ctx.proxyTimeoutMs);
  const id = `chatcmpl-${runName}`;
  try {
    for (;;) {
      const event = await events.next(runName, wait.signal);
      if (!event) return void res.end();
      if (event.topic === topics.chunk) {
        if (typeof event.data.content !== 'string') continue;
        const chunk = { id, object: 'chat.completion.chunk', created: unix(), model: '', choices: [{ index: 0, delta: { role: 'assistant', content: event.data.content }, finish_reason: null }] };
        res.write(`data: ${goMarshal(chunk)}\n\n`);
      } else if (event.topic === topics.completed) {
        const stop = { id, object: 'chat.completion.chunk', created: unix(), model: '', choices: [{ index: 0, delta: { role: '', content: '' }, finish_reason: 'stop' }] };
        res.end(`data: ${goMarshal(stop)}\n\ndata: [DONE]\n\n`);
        return;
      } else {
        res.end(`data: ${goMarshal({ error: { message: String(event.data.error ?? ''), type: 'agent_error' } })}\n\n`);
        return;
      }
    }
  } finally {
    wait.done();
  }
}

async function blockingResponse(res: ServerResponse, runName: string, model: string, events: RunEvents, ctx: RouteContext): Promise<void> {
  events.subscribe(topics.chunk);
  const wait = requestSignal(res, ctx.proxyTimeoutMs);
  const parts: string[] = [];
  try {
    for (;;) {
      const event = await events.next(runName, wait.signal);
      if (!event) return sendError(res, 504, wait.timedOut() ? 'agent run timed out' : 'request cancelled');
      if (event.topic === topics.chunk) {
        if (typeof event.data.content === 'string') parts.push(event.data.content);
      } else if (event.topic === topics.completed) {
        const response = typeof event.data.response === 'string' ? event.data.response : '';
        const content = response || parts.join('') || '(no response)';
        return sendJson(res, 200, {
          id: `chatcmpl-${runName}`,
          object: 'chat.completion',
          created: unix(),
          model,
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        });
      } else {
        return sendError(res, 500, `agent run failed: ${String(event.data.error ?? '')}`);
      }
    }
  } finally {
    wait.done();
  }
}

export function listModels(res: ServerResponse, ctx: RouteContext): void {
  const instance = ctx.broker.instance(ctx.namespace, ctx.instance);
  if (!instance) return sendError(res, 500, `failed to get instance: ${ctx.broker.notFound(ctx.instance)}`);
  const created = Math.floor(new Date(instance.metadata.creationTimestamp ?? 0).getTime() / 1000);
  sendJson(res, 200, { object: 'list', data: [{ id: instance.spec.agents?.default?.model ?? '', object: 'model', created, owned_by: 'sympozium' }] });
}
