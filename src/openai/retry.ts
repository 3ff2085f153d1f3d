/**
 * When to try a request again, and after how long. A retry must never start a second paid run, which is what
 * the Idempotency-Key header is for; this only decides the timing: exponential backoff with jitter, the
 * server's Retry-After when it sends one, bounded both in attempts and in total waiting.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** The first backoff; doubled per attempt. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** The most time all waits together may take (the command's own --timeout bounds it further). */
  maxTotalWaitMs: number;
  /**
   * The least wait after a 429 without Retry-After: the proxy's token bucket refills one request per second at
   * its default 60 per minute, so trying sooner only spends another attempt.
   */
  rateLimitFloorMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  maxTotalWaitMs: 60_000,
  rateLimitFloorMs: 1_000,
};

/**
 * The policy for an endpoint limited to `rpm` requests a minute: after a 429 the next token comes in 60/rpm
 * seconds (upstream's proxy sends no Retry-After, internal/webproxy/proxy.go), so no retry is tried sooner,
 * and the waits together may cover a few tokens. At the default 60/min this is the default policy.
 */
export function policyForRateLimit(rpm: number | undefined): Partial<RetryPolicy> {
  if (!rpm || !Number.isFinite(rpm) || rpm <= 0) return {};
  const tokenMs = Math.ceil(60_000 / rpm);
  return {
    rateLimitFloorMs: Math.max(defaultRetryPolicy.rateLimitFloorMs, tokenMs),
    maxDelayMs: Math.max(defaultRetryPolicy.maxDelayMs, tokenMs),
    maxTotalWaitMs: Math.max(defaultRetryPolicy.maxTotalWaitMs, 4 * tokenMs),
  };
}

/** HTTP statuses worth another try: rate limited, or a gateway/proxy that is briefly unavailable. */
export const retryableStatuses = new Set([429, 502, 503]);

/** Socket failures where the request most likely never reached the proxy, or the connection died under it. */
export const retryableSocketCodes = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/**
 * "Equal jitter": half the exponential step is fixed, half random, so clients that failed together spread out
 * but none retries almost at once.
 */
export function backoffDelay(policy: RetryPolicy, retryNumber: number, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retryNumber - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** How long to wait before retry number `retryNumber` (1 for the first retry). */
export function retryDelay(
  policy: RetryPolicy,
  retryNumber: number,
  cause: { status?: number; retryAfterMs?: number },
  random: () => number = Math.random,
): number {
  if (cause.retryAfterMs !== undefined) return cause.retryAfterMs;
  const computed = backoffDelay(policy, retryNumber, random);
  return cause.status === 429 ? Math.max(policy.rateLimitFloorMs, computed) : computed;
}
