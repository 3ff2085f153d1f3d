import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runBin } from '../support/bin.js';

/**
 * `sympozium mcp` against the MCP TypeScript SDK's own server and HTTP+SSE transport: the reference the CLI's
 * small client must match (the SDK is a devDependency, so it can be the judge here but not part of the CLI).
 */

let server: http.Server;
let url: string;
const calls: Record<string, unknown>[] = [];

beforeAll(async () => {
  ensureBuilt();
  const transports = new Map<string, SSEServerTransport>();
  server = http.createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://sdk').pathname;
    if (req.method === 'GET' && path === '/sse') {
      const mcp = new McpServer({ name: 'sdk-reference', version: '1.0.0' });
      mcp.registerTool('ask_agent', { description: 'Ask the agent to perform a task', inputSchema: { task: z.string() } }, async ({ task }) => {
        calls.push({ task });
        return { content: [{ type: 'text', text: `done: ${task}` }] };
      });
      mcp.registerTool('add', { description: 'Add two numbers\nsecond line', inputSchema: { a: z.number(), b: z.number().optional() } }, async ({ a, b }) => {
        calls.push({ a, b });
        return { content: [{ type: 'text', text: String(a + (b ?? 0)) }] };
      });
      const transport = new SSEServerTransport('/messages', res);
      transports.set(transport.sessionId, transport);
      res.on('close', () => transports.delete(transport.sessionId));
      await mcp.connect(transport);
      return;
    }
    const transport = transports.get(new URL(req.url ?? '/', 'http://sdk').searchParams.get('sessionId') ?? '');
    if (req.method === 'POST' && transport) return transport.handlePostMessage(req, res);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const mcp = (...args: string[]) => runBin(['mcp', 'demo', ...args, '--url', url, '--key', 'sk-test'], { env: { KUBECONFIG: '', HOME: '/nonexistent' } });

describe('mcp against the SDK reference server', () => {
  it('lists the tools with their arguments', async () => {
    const result = await mcp('tools');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^NAME\s+ARGUMENTS\s+DESCRIPTION\n/);
    expect(result.stdout).toMatch(/ask_agent\s+task: string\s+Ask the agent to perform a task\n/);
    expect(result.stdout).toMatch(/add\s+a: number, b\?: number\s+Add two numbers\n/);
    const json = await runBin(['mcp', 'demo', 'tools', '--url', url, '--key', 'k', '-o', 'json'], { env: { KUBECONFIG: '', HOME: '/nonexistent' } });
    expect(JSON.parse(json.stdout).tools.map((t: { name: string }) => t.name)).toEqual(['ask_agent', 'add']);
  });

  it('calls a tool: text stays text for string parameters, JSON for the others', async () => {
    const text = await mcp('call', 'ask_agent', '--arg', 'task=42');
    expect(text.code).toBe(0);
    expect(text.stdout).toBe('done: 42\n');
    const numbers = await mcp('call', 'add', '--arg', 'a=40', '--arg', 'b=2');
    expect(numbers.code).toBe(0);
    expect(numbers.stdout).toBe('42\n');
    expect(calls).toEqual([{ task: '42' }, { a: 40, b: 2 }]);
  });

  it('an unknown tool is a usage error that lists the real ones', async () => {
    const result = await mcp('call', 'nope', '--arg', 'x=1');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the web endpoint has no MCP tool "nope"');
    expect(result.stderr).toContain('Its tools: ask_agent, add.');
  });
});
