import { describe, expect, test } from 'vitest';
import { splitIntoChunks } from '../../src/dev/providers/echo.js';
import { parseGoDuration } from '../../src/dev/controller/timings.js';
import { TokenBucket } from '../../src/dev/webproxy/rate-limit.js';

/** The pure pieces of the local control plane, with an injected clock where time matters. */

describe('TokenBucket', () => {
  test('spends the burst, then refills at rpm/60 per second (ratelimit.go Allow)', () => {
    let now = 0;
    const bucket = new TokenBucket(60, 3, () => now);
    expect([bucket.allow(), bucket.allow(), bucket.allow()]).toEqual([true, true, true]);
    expect(bucket.allow()).toBe(false);
    now = 999;
    expect(bucket.allow()).toBe(false);
    now = 1000;
    expect(bucket.allow()).toBe(true);
    expect(bucket.allow()).toBe(false);
  });

  test('reconfiguring keeps earned tokens up to the new burst', () => {
    let now = 0;
    const bucket = new TokenBucket(6, 1, () => now);
    expect(bucket.allow()).toBe(true);
    expect(bucket.allow()).toBe(false);
    now = 60_000; // six tokens earned, capped at the burst of 1
    bucket.configure(600, 5);
    expect(bucket.allow()).toBe(true);
    expect(bucket.allow()).toBe(false);
    now += 100; // 600/min is 10 per second: one token per 100 ms
    expect(bucket.allow()).toBe(true);
  });
});

describe('echo chunks', () => {
  test('several chunks that join back to the exact text', () => {
    const text = 'This is the local echo model. You asked:   spaces  and\nnew lines ';
    const chunks = splitIntoChunks(text, 3);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.join('')).toBe(text);
    expect(splitIntoChunks('one')).toEqual(['one']);
  });
});

describe('parseGoDuration', () => {
  test('accepts what spec.timeout accepts, rejects the rest', () => {
    expect(parseGoDuration('10m')).toBe(600_000);
    expect(parseGoDuration('1h30m')).toBe(5_400_000);
    expect(parseGoDuration('250ms')).toBe(250);
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseGoDuration('10')).toBeUndefined();
    expect(parseGoDuration('10 m')).toBeUndefined();
    expect(parseGoDuration(undefined)).toBeUndefined();
  });
});
