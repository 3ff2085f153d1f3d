import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runBin } from '../support/bin.js';
import { startUpstreamProxy, type UpstreamProxy } from '../support/upstream-proxy.js';

/**
 * The proxy's token bucket is shared by every client and one MCP call is several requests, so a user hits 429
 * easily: `mcp` must wait and try again as `chat` does. A streaming front answers the first N requests of a
 * path with 429 and passes everything else through to the fake upstream proxy.
 */
let proxy: UpstreamProxy;
let front: http.Server;
let frontUrl: string;
let home: string;
const limited = new Map<string, number>();
const seen: string[] = [];

beforeAll(async () => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'sympozium-mcp-retry-'));
  proxy = await startUpstreamProxy();
  front = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://front').pathname.startsWith('/message') ? '/message' : new URL(req.url ?? '/', 'http://front').pathname;
    seen.push(`${req.method} ${path}`);
    const left = limited.get(path) ?? 0;
    if (left > 0) {
      limited.set(path, left - 1);
      req.resume();
      res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '0' }).end(JSON.stringify({ error: { message: 'rate limit exceeded', type: 'error' } }));
      return;
    }
    const upstream = http.request(new URL(req.url ?? '/', proxy.url), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
});

afterAll(async () => {
  front.closeAllConnections();
  await new Promise((resolve) => front.close(resolve));
  await proxy.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('mcp under a rate limit', () => {
  it('waits and tries again when opening the stream and posting are refused with 429', async () => {
    limited.set('/sse', 2);
    limited.set('/message', 1);
    seen.length = 0;
    const result = await runBin(['mcp', 'demo', 'tools', '--url', frontUrl, '--key', proxy.apiKey], { env: { HOME: home, KUBECONFIG: '' } });
    expect(result.stderr).toContain('GET /sse: HTTP 429 (rate limited), trying again');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('ask_agent');
    expect(seen.filter((line) => line === 'GET /sse')).toHaveLength(3);
  });
});
