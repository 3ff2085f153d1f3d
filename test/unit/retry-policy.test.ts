import { describe, expect, it } from 'vitest';
import { defaultRetryPolicy, policyForRateLimit, retryDelay } from '../../src/openai/retry.js';

describe('retries follow the instance rate limit', () => {
  it('waits at least one token after a 429 (upstream sends no Retry-After), and may wait for a few of them', () => {
    const policy = { ...defaultRetryPolicy, ...policyForRateLimit(10) };
    expect(retryDelay(policy, 1, { status: 429 }, () => 0)).toBe(6000);
    expect(policy.maxTotalWaitMs).toBeGreaterThanOrEqual(4 * 6000);
    // The old budget (7.8 s over all retries) was shorter than one token at 6/min.
    expect({ ...defaultRetryPolicy, ...policyForRateLimit(6) }.maxTotalWaitMs).toBeGreaterThanOrEqual(40_000);
  });

  it('changes nothing at the default 60/min or when the limit is unknown', () => {
    expect({ ...defaultRetryPolicy, ...policyForRateLimit(60) }).toEqual(defaultRetryPolicy);
    expect(policyForRateLimit(undefined)).toEqual({});
  });
});
