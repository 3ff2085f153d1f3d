import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply } from '../../src/commands/apply.js';
import { chat } from '../../src/commands/chat.js';
import { completion } from '../../src/commands/completion.js';
import { devStatus } from '../../src/commands/dev.js';
import { doctor } from '../../src/commands/doctor.js';
import { env } from '../../src/commands/env.js';
import { mcp } from '../../src/commands/mcp.js';
import { serveMcp } from '../../src/commands/mcp-serve.js';
import { migrate } from '../../src/commands/migrate.js';
import { models } from '../../src/commands/models.js';
import { proxy } from '../../src/commands/proxy.js';
import { version } from '../../src/commands/version.js';
import { CliError } from '../../src/errors.js';
import { fakeContext } from '../support/fake-context.js';

/**
 * The commands that need no cluster objects, in-process: the client's own, the local files, and the endpoint
 * commands against a small OpenAI-compatible server on loopback (real HTTP, as the endpoint would answer).
 */

const dir = mkdtempSync(path.join(tmpdir(), 'sympozium-commands-local-'));
const key = 'sk-endpoint-0123456789abcdef';
let server: Server;
let url: string;
const seen: { path: string; authorization?: string }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push({ path: request.url ?? '', authorization: request.headers.authorization });
    response.setHeader('content-type', 'application/json');
    if (request.headers.authorization !== `Bearer ${key}`) {
      response.statusCode = 401;
      return response.end(JSON.stringify({ error: { message: 'invalid API key', type: 'invalid_request_error' } }));
    }
    if (request.url === '/v1/models') return response.end(JSON.stringify({ object: 'list', data: [{ id: 'demo', object: 'model', created: 1767225600, owned_by: 'sympozium' }] }));
    if (request.url === '/v1/chat/completions') {
      request.resume();
      return request.on('end', () =>
        response.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'demo', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hello back' } }] })),
      );
    }
    response.statusCode = 404;
    response.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const manifest = ['apiVersion: sympozium.ai/v1alpha1', 'kind: SympoziumInstance', 'metadata: {name: demo}', 'spec: {agents: {default: {model: gpt-4.1}}}', ''].join('\n');

describe('the client itself', () => {
  it('version --client prints a table, or one document with -o json', async () => {
    const table = fakeContext();
    await version({ client: '1.2.3', clientOnly: true }, table.ctx);
    expect(table.stdout()).toMatch(/Client:\s+1\.2\.3/);
    const json = fakeContext({ format: 'json' });
    await version({ client: '1.2.3', clientOnly: true }, json.ctx);
    expect(JSON.parse(json.stdout())).toMatchObject({ client: { version: '1.2.3', node: process.version } });
  });

  it('completion prints a script per shell and refuses others (exit 2)', async () => {
    const bash = fakeContext();
    await completion({ shell: 'bash' }, bash.ctx);
    expect(bash.stdout()).toContain('complete -o default -F _sympozium_complete sympozium');
    const error = await completion({ shell: 'tcsh' }, fakeContext().ctx).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
  });

  it('dev status of a state directory with nothing running: an error, and with -o json the document first', async () => {
    const json = fakeContext({ format: 'json' });
    await expect(devStatus({ stateDir: dir }, json.ctx)).rejects.toThrow('the local control plane is not running');
    expect(JSON.parse(json.stdout())).toEqual({ running: false, stateDir: dir });
  });

  it('doctor without a reachable cluster fails its kubeconfig check and says what to fix', async () => {
    const checked = fakeContext({ format: 'json' });
    await expect(doctor({}, checked.ctx)).rejects.toThrow('1 check failed');
    expect(JSON.parse(checked.stdout())).toMatchObject({ ok: false, checks: [{ name: 'kubeconfig', status: 'fail' }] });
  });
});

describe('manifests', () => {
  it('migrate writes the v0.10.46 manifest to stdout', async () => {
    const file = path.join(dir, 'demo.yaml');
    writeFileSync(file, manifest);
    const migrated = fakeContext({ cwd: dir });
    await migrate({ paths: [file], out: '-', force: false, fromCluster: false, includeRuns: false }, migrated.ctx);
    expect(migrated.stdout()).toContain('kind: Agent');
    expect(migrated.stdout()).toContain('name: demo');
  });

  it('apply sends nothing when a document is invalid (exit 2), even without a cluster for --dry-run=client', async () => {
    const file = path.join(dir, 'broken.yaml');
    writeFileSync(file, manifest.replace('model: gpt-4.1', 'model: 42'));
    const applied = fakeContext({ cwd: dir });
    const error = await apply({ paths: [file], dryRun: 'client', forceConflicts: false, wait: false, timeoutMs: 1000 }, applied.ctx).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    expect((error as CliError).message).toContain('nothing was applied');
    expect(applied.stdout()).toBe('');
    expect(applied.stderr()).toContain('broken.yaml');
  });
});

describe('apply --dry-run=client output', () => {
  it('-o json is one document even without a cluster to check against, -o name the names', async () => {
    const file = path.join(dir, 'valid.yaml');
    writeFileSync(file, manifest);
    const json = fakeContext({ format: 'json', cwd: dir });
    await apply({ paths: [file], dryRun: 'client', forceConflicts: false, wait: false, timeoutMs: 1000 }, json.ctx);
    expect(JSON.parse(json.stdout())).toEqual({
      items: [{ apiVersion: 'sympozium.ai/v1alpha1', kind: 'SympoziumInstance', namespace: null, name: 'demo', outcome: 'valid (cluster not checked)' }],
      dryRun: 'client',
    });
    expect(json.stderr()).toContain('the cluster could not be checked');
    const names = fakeContext({ format: 'name', cwd: dir });
    await apply({ paths: [file], dryRun: 'client', forceConflicts: false, wait: false, timeoutMs: 1000 }, names.ctx);
    expect(names.stdout()).toBe('sympoziuminstance/demo\n');
  });
});

describe('the endpoint commands, against an OpenAI-compatible server on loopback', () => {
  it('models lists what /v1/models returns, with the key sent', async () => {
    const names = fakeContext({ format: 'name' });
    await models({ instance: 'demo', url, key }, names.ctx);
    expect(names.stdout()).toBe('demo\n');
    expect(seen.at(-1)).toEqual({ path: '/v1/models', authorization: `Bearer ${key}` });
  });

  it('chat --no-stream -o json prints one document with the answer', async () => {
    const asked = fakeContext({ format: 'json' });
    await chat({ instance: 'demo', message: 'hi', stream: false, streamExplicit: true, url, key, history: 'fold', timeoutMs: 10_000, json: false }, asked.ctx);
    const document = JSON.parse(asked.stdout()) as { response: { choices: { message: { content: string } }[] } };
    expect(document.response.choices[0]!.message.content).toBe('hello back');
    expect(asked.stdout()).not.toContain(key);
  });

  it('chat refuses an empty message before connecting (exit 2)', async () => {
    const before = seen.length;
    const error = await chat({ instance: 'demo', message: '  ', streamExplicit: false, url, key, history: 'fold', timeoutMs: 1000, json: false }, fakeContext().ctx).catch((caught: unknown) => caught);
    expect((error as CliError).exitCode).toBe(2);
    expect(seen.length).toBe(before);
  });

  it('env masks the key in shell lines and prints it for programs', async () => {
    const shell = fakeContext();
    await env({ instance: 'demo', url, key, reveal: false, mcp: false }, shell.ctx);
    expect(shell.stdout()).toContain(`OPENAI_BASE_URL=${url}/v1`);
    expect(shell.stdout()).not.toContain(key);
    const json = fakeContext({ format: 'json' });
    await env({ instance: 'demo', url, key, reveal: false, mcp: false }, json.ctx);
    expect(JSON.parse(json.stdout())).toMatchObject({ OPENAI_API_KEY: key });
  });

  it('mcp call refuses an --arg without a value before connecting (exit 2)', async () => {
    const before = seen.length;
    const error = await mcp({ instance: 'demo', action: 'call', tool: 'ask_agent', args: ['task'], url, key, timeoutMs: 1000 }, fakeContext().ctx).catch((caught: unknown) => caught);
    expect((error as CliError).exitCode).toBe(2);
    expect(seen.length).toBe(before);
  });

  it('mcp serve refuses a plain http:// URL to another host for the key', async () => {
    const error = await serveMcp({ instance: 'demo', url: 'http://example.com', key }, fakeContext().ctx).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toMatch(/http/);
  });

  it('proxy refuses an address that is not this machine\'s (exit 2)', async () => {
    const error = await proxy({ instance: 'demo', url, key, port: 0, address: '192.0.2.1', mcp: false }, fakeContext().ctx).catch((caught: unknown) => caught);
    expect((error as CliError).exitCode).toBe(2);
    expect((error as CliError).message).toContain('192.0.2.1 is not an address of this machine');
  });
});
