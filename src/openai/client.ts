import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { CliError, InterruptedError } from '../errors.js';
import { shortDuration } from '../duration.js';
import { EndpointError, connectionFailure, httpError, type EndpointDescription } from './errors.js';
import { keepAliveAgent, readText, send, socketCode } from './http.js';
import { defaultRetryPolicy, parseRetryAfter, retryDelay, retryableSocketCodes, retryableStatuses, type RetryPolicy } from './retry.js';
import { readChatStream } from './stream.js';
import type { ChatCompletion, ChatRequest, ModelList } from './types.js';

/**
 * The client for one web endpoint: chat completions (blocking or streamed), the model list, with retries
 * that never start a second run (the Idempotency-Key is the same on every try of one message).
 */

export interface EndpointTarget extends EndpointDescription {
  apiKey: string;
}

export interface ClientOptions {
  /** Ctrl-C: stops the request at once. */
  signal?: AbortSignal;
  debug?: (message: string) => void;
  policy?: Partial<RetryPolicy>;
  /**
   * Whether the proxy honours Idempotency-Key (upstream from v0.10.17; v0.5.8 ignores it), asked only when a
   * chat request fails. Unless it says true, a failed chat is retried only after a 429, which upstream's proxy
   * answers before any run starts (internal/webproxy/proxy.go, both releases). Default: honoured.
   */
  idempotent?: () => Promise<boolean | undefined>;
  userAgent?: string;
  /** For tests: the random source of the jitter. */
  random?: () => number;
}

export interface ChatCallOptions {
  /** The longest the whole answer may take, retries included. */
  timeoutMs: number;
  /** Defaults to a fresh one; a caller that retries a whole message itself passes the same one again. */
  idempotencyKey?: string;
  /** Each piece of text as it arrives (streaming only). */
  onDelta?: (text: string) => void;
  /** Told before each wait, so a spinner can say why nothing happens. */
  /**
   * Why the retry cannot start a second run: the proxy refused before any run (a 429), or it honours the
   * request's Idempotency-Key.
   */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string; safeBecause: 'refused-before-run' | 'idempotency-key' }) => void;
  /** Cancels just this answer (interactive Ctrl-C), not the session. */
  signal?: AbortSignal;
  /** Told when the request has gone out (each attempt), so other work can start without delaying it. */
  onSent?: () => void;
}

export interface ChatOutcome {
  completion: ChatCompletion;
  streamed: boolean;
  attempts: number;
  idempotencyKey: string;
  /** False when a stream ended without `data: [DONE]` (upstream's streams always end with it). */
  sawDone?: boolean;
}

class DeadlineError extends Error {}

export class EndpointClient {
  readonly target: EndpointTarget;
  private readonly options: ClientOptions;
  private readonly policy: RetryPolicy;
  private agent?: Promise<http.Agent>;

  constructor(target: EndpointTarget, options: ClientOptions = {}) {
    this.target = target;
    this.options = options;
    this.policy = { ...defaultRetryPolicy, ...options.policy };
  }

  close(): void {
    void this.agent?.then((agent) => agent.destroy());
  }

  private connectionPool(): Promise<http.Agent> {
    return (this.agent ??= keepAliveAgent(new URL(this.target.baseUrl)));
  }

  async chat(request: ChatRequest, call: ChatCallOptions): Promise<ChatOutcome> {
    const idempotencyKey = call.idempotencyKey ?? `sympozium-${randomUUID()}`;
    const body = JSON.stringify(request);
    const headers = this.headers({
      'Content-Type': 'application/json',
      Accept: request.stream ? 'text/event-stream' : 'application/json',
      'Idempotency-Key': idempotencyKey,
    });
    return this.withRetries('POST /v1/chat/completions', { ...call, startsRuns: true }, async (signal, attempt) => {
      const response = await send({ url: this.url('/v1/chat/completions'), method: 'POST', headers, body, signal, agent: await this.connectionPool(), onSent: call.onSent });
      this.options.debug?.(`POST /v1/chat/completions -> ${response.statusCode} (attempt ${attempt})`);
      const status = response.statusCode ?? 0;
      if (status >= 300) {
        const text = await readText(response).catch(() => '');
        throw httpError(status, text, this.target, 'POST /v1/chat/completions', parseRetryAfter(response.headers['retry-after']));
      }
      const type = String(response.headers['content-type'] ?? '');
      if (type.includes('text/event-stream')) {
        const streamed = await readChatStream(response, call.onDelta, this.options.debug);
        return { ...streamed, streamed: true, attempts: attempt, idempotencyKey };
      }
      const completion = parseJson<ChatCompletion>(await readText(response), 'chat completion');
      return { completion, streamed: false, attempts: attempt, idempotencyKey };
    });
  }

  async models(timeoutMs: number): Promise<ModelList> {
    return this.withRetries('GET /v1/models', { timeoutMs }, async (signal) => {
      const response = await send({ url: this.url('/v1/models'), headers: this.headers({ Accept: 'application/json' }), signal, agent: await this.connectionPool() });
      this.options.debug?.(`GET /v1/models -> ${response.statusCode}`);
      const text = await readText(response);
      const status = response.statusCode ?? 0;
      if (status >= 300) throw httpError(status, text, this.target, 'GET /v1/models', parseRetryAfter(response.headers['retry-after']));
      return parseJson<ModelList>(text, 'model list');
    });
  }

  private url(path: string): URL {
    return new URL(this.target.baseUrl + path);
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return { Authorization: `Bearer ${this.target.apiKey}`, 'User-Agent': this.options.userAgent ?? 'sympozium-cli', ...extra };
  }

  /**
   * Runs `attempt` until it succeeds, fails for good, or the deadline passes. Retries 429/502/503 and
   * dropped connections, waiting per retry.ts, and only while no part of an answer has been shown.
   */
  private async withRetries<T>(
    what: string,
    call: Pick<ChatCallOptions, 'timeoutMs' | 'onRetry' | 'signal'> & { onDelta?: unknown; startsRuns?: boolean },
    attempt: (signal: AbortSignal, attemptNumber: number) => Promise<T>,
  ): Promise<T> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DeadlineError()), call.timeoutMs);
    const signals = [deadline.signal, this.options.signal, call.signal].filter((s): s is AbortSignal => Boolean(s));
    const signal = AbortSignal.any(signals);
    const started = Date.now();
    let waited = 0;
    try {
      for (let number = 1; ; number++) {
        try {
          return await attempt(signal, number);
        } catch (error) {
          if (signal.aborted) throw this.abortReason(signal, call.timeoutMs, what);
          const failure = this.classify(error);
          const retryable = failure.retryable && !(error instanceof EndpointError && error.agentError) && !(error as { answerStarted?: boolean }).answerStarted;
          const beforeAnyRun = failure.status === 429;
          if (retryable && call.startsRuns && !beforeAnyRun) {
            const sameRun = (await (this.options.idempotent?.() ?? Promise.resolve(true)).catch(() => undefined)) === true;
            if (!sameRun) {
              this.options.debug?.(`${what}: ${failure.reason}; not retried: the proxy may have started a run, and it may not honour Idempotency-Key`);
              throw notRetried(failure.error, this.target.instance);
            }
          }
          if (!retryable || number >= this.policy.maxAttempts) throw failure.error;
          const delayMs = retryDelay(this.policy, number, { status: failure.status, retryAfterMs: failure.retryAfterMs }, this.options.random);
          const remaining = call.timeoutMs - (Date.now() - started);
          if (waited + delayMs > this.policy.maxTotalWaitMs || delayMs >= remaining) {
            if (failure.status === 429 && failure.retryAfterMs !== undefined) {
              throw new EndpointError(`the web endpoint is rate limiting requests (429) and asks to wait ${shortDuration(failure.retryAfterMs)}`, {
                status: 429,
                hint: 'Try again after that, or raise the limit with `sympozium enable web-endpoint <instance> --rpm <n>`.',
              });
            }
            throw failure.error;
          }
          waited += delayMs;
          this.options.debug?.(`${what}: ${failure.reason}; retrying in ${delayMs}ms (attempt ${number + 1} of ${this.policy.maxAttempts})`);
          call.onRetry?.({ attempt: number + 1, delayMs, reason: failure.reason, safeBecause: beforeAnyRun ? 'refused-before-run' : 'idempotency-key' });
          await sleep(delayMs, signal).catch(() => {
            throw this.abortReason(signal, call.timeoutMs, what);
          });
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private classify(error: unknown): { error: unknown; retryable: boolean; status?: number; retryAfterMs?: number; reason: string } {
    if (error instanceof EndpointError) {
      const retryable = error.status !== undefined && retryableStatuses.has(error.status);
      const reason = error.status === 429 ? 'rate limited (HTTP 429)' : `the endpoint is unavailable (HTTP ${error.status ?? '?'})`;
      return { error, retryable, status: error.status, retryAfterMs: error.retryAfterMs, reason };
    }
    const code = socketCode(error);
    if (code) {
      return { error: connectionFailure(error, this.target, code), retryable: retryableSocketCodes.has(code), reason: `the connection failed (${code})` };
    }
    return { error, retryable: false, reason: String(error) };
  }

  private abortReason(signal: AbortSignal, timeoutMs: number, what: string): Error {
    if (signal.reason instanceof DeadlineError) {
      return new EndpointError(`no answer within ${shortDuration(timeoutMs)} (--timeout) for ${what}`, {
        hint:
          `The agent run may still be working: see \`sympozium runs list --instance ${this.target.instance}\`. ` +
          'Raise --timeout for long tasks (upstream stops a run after 10 minutes).',
      });
    }
    return signal.reason instanceof Error ? signal.reason : new InterruptedError();
  }
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new EndpointError(`the web endpoint sent a ${what} that is not JSON`, {
      hint: 'Is --url the address of a Sympozium web endpoint? It should answer /v1/models with a JSON list.',
    });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolvePromise();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A failure that a retry could have fixed, but only at the price of a second paid run: say so. */
function notRetried(error: unknown, instance: string): unknown {
  if (!(error instanceof CliError)) return error;
  const why =
    'Not retried: the request may have started a run, and this endpoint may not honour Idempotency-Key (Sympozium before v0.10.17 ignores it), so a second try could start a second run.';
  const next = `See whether the first one ran: sympozium runs list --instance ${instance}`;
  const hint = [error.hint, why, next].filter(Boolean).join(' ');
  return error instanceof EndpointError
    ? new EndpointError(error.message, { hint, status: error.status, serverMessage: error.serverMessage, retryAfterMs: error.retryAfterMs, cause: error })
    : new CliError(error.message, { hint, exitCode: error.exitCode, cause: error });
}
