import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClient } from '../../src/kube/client.js';

/** --request-timeout is wall-clock time for the whole answer, not the socket's silence. */
let server: Server;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  // Headers at once, then a byte every 200 ms for ever: never silent, never done.
  server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.write('{');
    const timer = setInterval(() => response.write(' '), 200);
    response.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  dir = mkdtempSync(join(tmpdir(), 'sympozium-wall-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:${port}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user: {}\n`,
  );
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('request timeout', () => {
  it('ends a trickling answer at the limit and says the limit it was given', async () => {
    const kube = createKubeClient({ globals: { kubeconfig, requestTimeoutMs: 1_000 }, env: {} });
    // The old socket timeout never fired here (the server is never silent for a second): this hung until the
    // test's own timeout.
    const failure = await kube.get('/api/v1/namespaces').catch((error: unknown) => error as Error);
    kube.close();
    expect(failure.message).toBe('the cluster did not answer within 1s (GET /api/v1/namespaces)');
  });
});
