import { describe, expect, it } from 'vitest';
import { backoffDelay, defaultRetryPolicy, parseRetryAfter, retryDelay } from '../../src/openai/retry.js';

describe('retry timing', () => {
  it('backs off exponentially with equal jitter, capped', () => {
    const policy = { ...defaultRetryPolicy, baseDelayMs: 500, maxDelayMs: 4_000 };
    expect(backoffDelay(policy, 1, () => 0)).toBe(250);
    expect(backoffDelay(policy, 1, () => 1)).toBe(500);
    expect(backoffDelay(policy, 2, () => 0)).toBe(500);
    expect(backoffDelay(policy, 3, () => 1)).toBe(2_000);
    // Capped at maxDelayMs, so never more than that even after many tries.
    expect(backoffDelay(policy, 10, () => 1)).toBe(4_000);
    expect(backoffDelay(policy, 10, () => 0)).toBe(2_000);
  });

  it('reads Retry-After as seconds or as an HTTP date, and ignores garbage', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter(['2', '9'])).toBe(2_000);
  });

  it('honours Retry-After; without it, a 429 waits at least the rate-limit floor', () => {
    const policy = defaultRetryPolicy;
    expect(retryDelay(policy, 1, { status: 429, retryAfterMs: 7_000 })).toBe(7_000);
    expect(retryDelay(policy, 1, { status: 429 }, () => 0)).toBe(policy.rateLimitFloorMs);
    expect(retryDelay(policy, 1, { status: 503 }, () => 0)).toBe(policy.baseDelayMs / 2);
    expect(retryDelay(policy, 5, { status: 429 }, () => 1)).toBe(Math.min(policy.maxDelayMs, policy.baseDelayMs * 16));
  });
});
