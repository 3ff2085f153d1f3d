import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runBin } from '../support/bin.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { servingInstance, startPlane } from '../dev/helpers.js';

/**
 * The proxy's token bucket is shared by every client and one MCP call is several requests (the stream and each
 * POST count, internal/webproxy/proxy.go), so a user hits 429 easily: `mcp` must wait and try again as `chat`
 * does. A gateway in front of dev's proxy refuses the first requests of a path with 429 (a gateway's rate
 * limiter, with Retry-After, which the proxy itself never sends) and passes everything else through.
 */
let plane: Awaited<ReturnType<typeof startPlane>>;
let gateway: Gateway;
let key: string;
let home: string;

beforeAll(async () => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'sympozium-mcp-retry-'));
  plane = await startPlane();
  const served = await servingInstance(plane, 'demo', {}, { rate_limit_rpm: '6000', rate_limit_burst: '200' });
  key = served.key;
  gateway = await startGateway(served.baseURL.replace(/\/v1$/, ''));
});

afterAll(async () => {
  await gateway?.stop();
  await plane?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('mcp under a rate limit', () => {
  it('waits and tries again when opening the stream and posting are refused with 429', async () => {
    const refused = { kind: 'status' as const, status: 429, retryAfter: '0', contentType: 'application/json', body: '{"error":{"message":"rate limit exceeded","type":"error"}}' };
    gateway.enqueue({ ...refused, path: '/sse' }, { ...refused, path: '/sse' }, { ...refused, path: '/message' });
    const result = await runBin(['mcp', 'demo', 'tools', '--url', gateway.url, '--key', key], { env: { HOME: home, KUBECONFIG: '' } });
    expect(result.stderr).toContain('GET /sse: HTTP 429 (rate limited), trying again');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('ask_agent');
    expect(gateway.seen.filter((r) => r.method === 'GET' && r.path === '/sse')).toHaveLength(3);
    expect(gateway.seen.filter((r) => r.path === '/message' && r.fault === 'status')).toHaveLength(1);
  });

  it("the proxy's own 429 (no Retry-After) on the stream is waited out too", async () => {
    const limited = await servingInstance(plane, 'limited', {}, { rate_limit_rpm: '60', rate_limit_burst: '1' });
    expect((await fetch(`${limited.baseURL}/models`, { headers: { Authorization: `Bearer ${limited.key}` } })).status).toBe(200);
    const result = await runBin(['mcp', 'limited', 'tools', '--url', limited.baseURL.replace(/\/v1$/, ''), '--key', limited.key], { env: { HOME: home, KUBECONFIG: '' } });
    expect(result.stderr).toContain('GET /sse: HTTP 429 (rate limited), trying again');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Send a task to the limited agent');
  }, 30_000);
});
