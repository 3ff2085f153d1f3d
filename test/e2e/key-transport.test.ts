import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runBin } from '../support/bin.js';

/**
 * The API key travels only over TLS or loopback. A recording endpoint on this machine stands in for the web
 * endpoint; it listens on every local address so that `http://0.0.0.0:<port>` (which is not a loopback
 * address by name, yet never leaves this machine) can play a remote plain-http host. Refused means the
 * endpoint received nothing at all.
 */

const secret = 'sk-transport-test-0123456789abcdef';
let endpoint: http.Server;
let cluster: http.Server;
let port: number;
let clusterUrl: string;
let seen: { path: string; authorization?: string }[] = [];
let statusUrl = '';
let home: string;

const models = JSON.stringify({ object: 'list', data: [{ id: 'demo', object: 'model', owned_by: 'sympozium' }] });

beforeAll(async () => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'sympozium-transport-'));
  endpoint = http.createServer((request, response) => {
    seen.push({ path: request.url ?? '', authorization: request.headers.authorization });
    response.writeHead(200, { 'content-type': 'application/json' }).end(models);
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '0.0.0.0', resolve));
  port = (endpoint.address() as AddressInfo).port;

  // A fake API server that serves one instance whose status names a URL, as anyone allowed to patch the
  // status could set it. Everything else is 404, so the CLI cannot fall back to a port-forward.
  cluster = http.createServer((request, response) => {
    const json = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (request.url === '/apis/sympozium.ai/v1alpha1') {
      return json(200, { kind: 'APIResourceList', groupVersion: 'sympozium.ai/v1alpha1', resources: [{ name: 'sympoziuminstances', kind: 'SympoziumInstance', namespaced: true }] });
    }
    if (request.url === '/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances/demo') {
      return json(200, { apiVersion: 'sympozium.ai/v1alpha1', kind: 'SympoziumInstance', metadata: { name: 'demo', namespace: 'default' }, spec: {}, status: { webEndpoint: { url: statusUrl } } });
    }
    json(404, { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
  });
  await new Promise<void>((resolve) => cluster.listen(0, '127.0.0.1', resolve));
  clusterUrl = `http://127.0.0.1:${(cluster.address() as AddressInfo).port}`;
  // kubectl's rule for an http server: no credentials at all, so this kubeconfig has none.
  writeFileSync(
    join(home, 'kubeconfig'),
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "${clusterUrl}", insecure-skip-tls-verify: true}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\nusers:\n- name: u\n  user: {}\n`,
  );
});

afterAll(async () => {
  await new Promise((resolve) => endpoint?.close(resolve));
  await new Promise((resolve) => cluster?.close(resolve));
  rmSync(home, { recursive: true, force: true });
});

const cli = (args: string[], input?: string) => runBin(args, { env: { HOME: home, KUBECONFIG: join(home, 'kubeconfig'), SYMPOZIUM_API_KEY: '' }, cwd: home, input });

describe('the API key goes only over TLS or loopback', () => {
  it('refuses plain http to a host that is not loopback, sending nothing, for chat, models and mcp', async () => {
    seen = [];
    for (const args of [['models', 'demo'], ['chat', 'demo', 'hello'], ['mcp', 'demo', 'tools']]) {
      const result = await cli([...args, '--url', `http://0.0.0.0:${port}`, '--key', secret]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`refusing to send the API key over plain http to http://0.0.0.0:${port} (from --url)`);
      expect(result.stderr).toContain('--allow-http');
      expect(result.stderr + result.stdout).not.toContain(secret);
    }
    expect(seen).toEqual([]);
  });

  it('with --allow-http it sends the key, and warns', async () => {
    seen = [];
    const result = await cli(['models', 'demo', '--url', `http://0.0.0.0:${port}`, '--key', secret, '--allow-http']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('sending the API key over plain http');
    expect(result.stdout).toContain('demo');
    expect(seen.map((request) => request.authorization)).toEqual([`Bearer ${secret}`]);
  });

  it('plain http on loopback needs no flag and says nothing', async () => {
    seen = [];
    const result = await cli(['models', 'demo', '--url', `http://127.0.0.1:${port}`, '--key', secret]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(seen).toHaveLength(1);
  });

  it("treats the instance's status URL as untrusted: plain http refused, other schemes ignored, -v says where the key went", async () => {
    seen = [];
    statusUrl = `http://0.0.0.0:${port}`;
    const refused = await cli(['models', 'demo', '--key', secret]);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain("(from the instance's status.webEndpoint.url)");
    expect(seen).toEqual([]);

    statusUrl = `file:///etc/passwd`;
    const ignored = await cli(['models', 'demo', '--key', secret, '-v']);
    expect(ignored.stderr).toContain('ignoring the instance\'s status.webEndpoint.url "file:///etc/passwd"');
    expect(ignored.code).not.toBe(0);
    expect(seen).toEqual([]);

    statusUrl = `http://127.0.0.1:${port}`;
    const used = await cli(['models', 'demo', '--key', secret, '-v']);
    expect(used.code, used.stderr).toBe(0);
    expect(used.stderr).toContain(`sent only to http://127.0.0.1:${port}`);
    expect(used.stderr).not.toContain(secret);
  });
});

describe('--key-file', () => {
  it('reads the key from a file or stdin, never needs it on the command line', async () => {
    writeFileSync(join(home, 'key.txt'), `${secret}\n`, { mode: 0o600 });
    seen = [];
    const fromFile = await cli(['models', 'demo', '--url', `http://127.0.0.1:${port}`, '--key-file', 'key.txt']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const fromStdin = await cli(['models', 'demo', '--url', `http://127.0.0.1:${port}`, '--key-file', '-'], `${secret}\n`);
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(seen.map((request) => request.authorization)).toEqual([`Bearer ${secret}`, `Bearer ${secret}`]);
  });

  it('refuses an empty or missing file, --key together with it, and a chat message and key both on stdin', async () => {
    writeFileSync(join(home, 'empty.txt'), '\n');
    const url = `http://127.0.0.1:${port}`;
    const cases: [string[], string][] = [
      [['models', 'demo', '--url', url, '--key-file', 'empty.txt'], 'is empty'],
      [['models', 'demo', '--url', url, '--key-file', 'missing.txt'], 'cannot read --key-file missing.txt: ENOENT'],
      [['models', 'demo', '--url', url, '--key', secret, '--key-file', 'empty.txt'], '--key and --key-file both name the key'],
      [['chat', 'demo', '--url', url, '--key-file', '-'], 'the message cannot come from there too'],
    ];
    for (const [args, message] of cases) {
      const result = await cli(args, 'x\n');
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(message);
    }
  });
});

describe('a key given where a name belongs is never echoed', () => {
  it('init --api-key-env with the value instead of the variable name is refused without printing it', async () => {
    for (const spec of [secret, `OPENAI_API_KEY=${secret}`, `${secret}=OPENAI_API_KEY`]) {
      const result = await runBin(['init', 'demo', '--yes', '--out', '-', '--api-key-env', spec], { env: { HOME: home, OPENAI_API_KEY: secret }, cwd: home });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('--api-key-env takes the name of an environment variable, not its value');
      expect(result.stdout + result.stderr).not.toContain(secret.slice(3));
    }
  });
});
