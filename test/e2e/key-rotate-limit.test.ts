import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevCluster, type DevCluster } from '../support/dev-cluster.js';

/**
 * key rotate under a tight rate limit with other traffic: its checks wait for the bucket instead of spending
 * it, and it succeeds (the old code asked twice every 500 ms and got 429 until its timeout).
 */
let cluster: DevCluster;
const cli = (args: string[], options: { input?: string; timeoutMs?: number } = {}) => cluster.cli(args, options);

beforeAll(async () => {
  cluster = await startDevCluster('sympozium-rotate-');
});
afterAll(async () => cluster?.stop());

describe('key rotate under a rate limit', () => {
  it('waits for the limit instead of failing, while other clients spend the bucket', async () => {
    const init = await cli(['init', 'tight', '--provider', 'ollama', '--web-endpoint', '--rpm', '20', '--burst', '1', '--yes', '--apply', '--out', join(cluster.dir, 'tight.yaml')]);
    expect(init.code, init.stderr).toBe(0);
    expect((await cli(['enable', 'web-endpoint', 'tight', '--timeout', '30s'], { timeoutMs: 40_000 })).code).toBe(0);
    const key = (await cli(['key', 'show', 'tight', '--reveal'])).stdout.trim();
    // Another client takes the only token of the bucket just before the rotation checks.
    const traffic = cli(['models', 'tight', '--key', key]);
    const rotated = await cli(['key', 'rotate', 'tight', '--timeout', '40s', '-v'], { timeoutMs: 50_000 });
    await traffic;
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stderr).toContain('rotated the API key of tight');
    // Few requests: each check is one request, and a 429 waits a whole token (3 s at 20/min).
    const checks = rotated.stderr.split('\n').filter((line) => line.includes('key rotate: check'));
    expect(checks.length).toBeLessThanOrEqual(5);
    for (const line of checks.filter((entry) => entry.includes(': 429;'))) expect(line).toMatch(/next in [3-9]\.\ds|next in \d\ds/);
  }, 90_000);
});
