import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { echoPrefix } from '../../src/dev/index.js';
import { paths, servingInstance, startPlane, type Obj } from './helpers.js';

/** MCP (HTTP+SSE, 2024-11-05) through the official TypeScript SDK's SSE client, with a Bearer key. */

let plane: Awaited<ReturnType<typeof startPlane>>;
let endpoint: { baseURL: string; key: string };
let base: string;

beforeAll(async () => {
  plane = await startPlane();
  endpoint = await servingInstance(plane, 'tools', {}, { rate_limit_rpm: '6000', rate_limit_burst: '100' });
  base = endpoint.baseURL.replace(/\/v1$/, '');
});
afterAll(async () => {
  await plane?.stop();
});

async function connect(key = endpoint.key): Promise<Client> {
  const client = new Client({ name: 'sympozium-test', version: '1.0.0' });
  const transport = new SSEClientTransport(new URL(`${base}/sse`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } });
  await client.connect(transport);
  return client;
}

describe('MCP over SSE', () => {
  test('initialize names the server, tools/list offers ask_agent, tools/call runs an AgentRun', async () => {
    const client = await connect();
    try {
      expect(client.getServerVersion()?.name).toBe('sympozium-agent');
      const { tools } = await client.listTools();
      expect(tools).toHaveLength(1);
      expect(tools[0]).toMatchObject({ name: 'ask_agent', inputSchema: { type: 'object', required: ['task'], properties: { task: { type: 'string' } } } });

      const result = (await client.callTool({ name: 'ask_agent', arguments: { task: 'list the pods' } })) as Obj;
      expect(result.isError).toBeFalsy();
      expect(result.content).toEqual([{ type: 'text', text: `${echoPrefix} list the pods` }]);
      const runs = await plane.api.list(paths.runs(), 'sympozium.ai/source=web-proxy');
      const run = runs.find((item: Obj) => item.spec.task === 'list the pods');
      expect(run.metadata.name).toMatch(/^tools-mcp-/);
      expect(run.status.phase).toBe('Succeeded');

      // Upstream's executeAgentTask (internal/webproxy/mcp.go): a failed run is a JSON-RPC error, not a tool
      // result, and a run that succeeded with no text answers "(no response)".
      await expect(client.callTool({ name: 'ask_agent', arguments: { task: 'boom [fail]' } })).rejects.toMatchObject({ code: -32603, message: expect.stringContaining('agent run failed: echo model: failing on purpose because the task contains [fail]') });
      const silent = (await client.callTool({ name: 'ask_agent', arguments: { task: 'say nothing [silent]' } })) as Obj;
      expect(silent.content).toEqual([{ type: 'text', text: '(no response)' }]);

      const completion = await client.complete({ ref: { type: 'ref/prompt', name: 'x' }, argument: { name: 'a', value: 'b' } });
      expect(completion.completion.values).toEqual([]);
      await expect(client.listPrompts()).rejects.toMatchObject({ code: -32601 });
    } finally {
      await client.close();
    }
  });

  test('the raw transport: endpoint event, 202 for posts, responses on the stream, 401 without a key', async () => {
    expect((await fetch(`${base}/sse`)).status).toBe(401);
    const abort = new AbortController();
    const response = await fetch(`${base}/sse`, { headers: { Authorization: `Bearer ${endpoint.key}` }, signal: abort.signal });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) text += decoder.decode((await reader.read()).value, { stream: true });
    };
    await readUntil('\n\n');
    const match = /^event: endpoint\ndata: (\/message\?sessionId=\S+)\n\n/.exec(text);
    expect(match).not.toBeNull();
    const posted = await fetch(`${base}${match![1]}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${endpoint.key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'nope/nothing' }),
    });
    expect(posted.status).toBe(202);
    await readUntil('"id":7');
    const event = text.split('\n\n').find((chunk) => chunk.includes('"id":7'))!;
    expect(event.startsWith('event: message\ndata: ')).toBe(true);
    expect(JSON.parse(event.slice('event: message\ndata: '.length))).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: -32601 } });
    abort.abort();
  });
});
