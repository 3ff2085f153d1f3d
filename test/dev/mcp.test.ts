import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { echoPrefix } from '../../src/dev/index.js';
import type { Release } from '../../src/sympozium/releases.js';
import { paths, servingInstance, startPlane, waitFor, type Obj } from './helpers.js';

/**
 * MCP (HTTP+SSE, 2024-11-05) through the official TypeScript SDK's SSE client and raw HTTP, against each
 * release's proxy; what it must match is internal/webproxy/mcp.go, the same file in effect at v0.5.8 and
 * v0.10.46 (only the failure event, published by v0.10.46's controller alone, differs).
 */

const releases: Release[] = ['v0.5.8', 'v0.10.46'];
const timings = { proxyTimeoutMs: 1200, jobEndMs: 300 };

describe.each(releases)('MCP on %s', (release) => {
  let plane: Awaited<ReturnType<typeof startPlane>>;
  let endpoint: { baseURL: string; key: string };
  let base: string;
  const v010 = release === 'v0.10.46';

  beforeAll(async () => {
    plane = await startPlane({ release, timings });
    endpoint = await servingInstance(plane, 'tools', {}, { rate_limit_rpm: '6000', rate_limit_burst: '200' });
    base = endpoint.baseURL.replace(/\/v1$/, '');
  });
  afterAll(async () => {
    await plane?.stop();
  });

  async function connect(): Promise<Client> {
    const client = new Client({ name: 'sympozium-test', version: '1.0.0' });
    // Upstream answers the client's notifications too (id null), which the SDK reports here and ignores.
    client.onerror = () => {};
    const transport = new SSEClientTransport(new URL(`${base}/sse`), { requestInit: { headers: { Authorization: `Bearer ${endpoint.key}` } } });
    await client.connect(transport);
    return client;
  }

  /** A raw session: its stream's text so far, and a POST to its endpoint. */
  async function session() {
    const abort = new AbortController();
    const response = await fetch(`${base}/sse`, { headers: { Authorization: `Bearer ${endpoint.key}` }, signal: abort.signal });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const state = { text: '' };
    const readUntil = async (needle: string) => {
      while (!state.text.includes(needle)) state.text += decoder.decode((await reader.read()).value, { stream: true });
    };
    await readUntil('\n\n');
    const endpointPath = /^event: endpoint\ndata: (\/message\?sessionId=mcp-\d{19})\n\n$/.exec(state.text)?.[1];
    const post = (body: string) => fetch(`${base}${endpointPath}`, { method: 'POST', headers: { Authorization: `Bearer ${endpoint.key}`, 'Content-Type': 'application/json' }, body });
    return { response, state, readUntil, endpointPath, post, close: () => abort.abort() };
  }

  test('initialize, tools/list and tools/call through the SDK, with upstream\'s texts', async () => {
    const client = await connect();
    try {
      expect(client.getServerVersion()).toEqual({ name: 'sympozium-agent', version: '1.0.0' });
      expect(client.getServerCapabilities()).toEqual({ tools: {} });
      const { tools } = await client.listTools();
      expect(tools).toEqual([
        {
          name: 'ask_agent',
          description: 'Send a task to the tools agent',
          inputSchema: { type: 'object', properties: { task: { type: 'string', description: 'The task or question for the agent' } }, required: ['task'] },
        },
      ]);
      const result = (await client.callTool({ name: 'ask_agent', arguments: { task: 'list the pods' } })) as Obj;
      expect(result).toEqual({ content: [{ type: 'text', text: `${echoPrefix} list the pods` }] });
      const [run] = (await plane.api.list(paths.runs(), 'sympozium.ai/source=web-proxy')).filter((item: Obj) => item.spec.task === 'list the pods');
      expect(run.metadata.name).toMatch(/^tools-mcp-[a-z0-9]{5}$/);
      expect(run.metadata.labels['sympozium.ai/request-hash']).toBeUndefined();
      expect(run.spec.sessionKey).toMatch(/^mcp-tools-\d{19}$/);
      // executeAgentTask copies the instance's skills, web-endpoint included, and adds no system prompt.
      expect(run.spec.skills).toEqual([expect.objectContaining({ skillPackRef: 'web-endpoint' })]);
      expect(run.spec.systemPrompt).toBeUndefined();
      expect(run.spec.mode).toBe('task');

      // No check of the tool's name (executeAgentTask runs any), and no isError anywhere.
      expect(((await client.callTool({ name: 'anything', arguments: { task: 'by another name' } })) as Obj).content[0].text).toBe(`${echoPrefix} by another name`);
      expect((await client.callTool({ name: 'ask_agent', arguments: { task: 'say nothing [silent]' } })) as Obj).toEqual({ content: [{ type: 'text', text: '(no response)' }] });
      // The runner failing is a completion with no response, as in the chat API.
      expect((await client.callTool({ name: 'ask_agent', arguments: { task: 'boom [fail]' } })) as Obj).toEqual({ content: [{ type: 'text', text: '(no response)' }] });
      await expect(client.callTool({ name: 'ask_agent' })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('invalid arguments') });

      const started = Date.now();
      const crashed = client.callTool({ name: 'ask_agent', arguments: { task: 'die [crash]' } }, undefined, { timeout: 10_000 });
      if (v010) {
        await expect(crashed).rejects.toMatchObject({ code: -32603, message: expect.stringContaining('agent run failed: Job failed') });
      } else {
        await expect(crashed).rejects.toMatchObject({ code: -32603, message: expect.stringContaining('agent run timed out') });
        expect(Date.now() - started).toBeGreaterThanOrEqual(timings.proxyTimeoutMs - 50);
      }

      expect((await client.complete({ ref: { type: 'ref/prompt', name: 'x' }, argument: { name: 'a', value: 'b' } })).completion).toEqual({ values: [] });
      await expect(client.listPrompts()).rejects.toMatchObject({ code: -32601, message: expect.stringContaining('method not found: prompts/list') });
      await expect(client.ping()).rejects.toMatchObject({ code: -32601 });
    } finally {
      await client.close();
    }
  });

  test('the raw transport: 202 with no body only after the response went out on the stream; Go\'s decode errors', async () => {
    expect((await fetch(`${base}/sse`)).status).toBe(401);
    const raw = await session();
    try {
      expect(raw.response.headers.get('content-type')).toBe('text/event-stream');
      expect(raw.endpointPath).toBeDefined();
      // A tools/call answers its POST when the run has answered: the stream has the result by then.
      const started = Date.now();
      const posted = await raw.post(JSON.stringify({ jsonrpc: '2.0', id: 'call-1', method: 'tools/call', params: { arguments: { TASK: 'raw [slow:200ms]' } } }));
      expect([posted.status, posted.headers.get('content-length'), await posted.text()]).toEqual([202, '0', '']);
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
      await raw.readUntil('"call-1"');
      const message = raw.state.text.split('\n\n').find((chunk) => chunk.includes('"call-1"'))!;
      expect(message).toBe(`event: message\ndata: {"jsonrpc":"2.0","id":"call-1","result":{"content":[{"text":"${echoPrefix} raw [slow:200ms]","type":"text"}]}}`);

      // The id is echoed as raw JSON (compacted); a notification is answered too, with a null id.
      await raw.post('{"jsonrpc":"2.0","id": 7.50 ,"method":"nope/nothing"}');
      await raw.post('{"jsonrpc":"2.0","method":"notifications/initialized"}');
      await raw.post('{"jsonrpc":"2.0","id":8,"method":"tools/call","params":"x"}');
      await raw.readUntil('"id":8');
      expect(raw.state.text).toContain('data: {"jsonrpc":"2.0","id":7.50,"error":{"code":-32601,"message":"method not found: nope/nothing"}}\n\n');
      expect(raw.state.text).toContain('data: {"jsonrpc":"2.0","id":null,"error":{"code":-32601,"message":"method not found: notifications/initialized"}}\n\n');
      expect(raw.state.text).toContain('data: {"jsonrpc":"2.0","id":8,"error":{"code":-32602,"message":"invalid params"}}\n\n');

      const bad: [string, string][] = [
        ['{"jsonrpc":"2.0","id":1,"method":5}', 'invalid JSON-RPC request: json: cannot unmarshal number into Go struct field JSONRPCRequest.method of type string'],
        ['[{"jsonrpc":"2.0","id":1,"method":"ping"}]', 'invalid JSON-RPC request: json: cannot unmarshal array into Go value of type webproxy.JSONRPCRequest'],
        ['', 'invalid JSON-RPC request: EOF'],
        ['{"id":tru}', "invalid JSON-RPC request: invalid character '}' in literal true (expecting 'e')"],
      ];
      for (const [body, text] of bad) {
        const response = await raw.post(body);
        expect([response.status, await response.text()], body).toEqual([400, `${JSON.stringify({ error: { message: text, type: 'error' } })}\n`]);
      }
    } finally {
      raw.close();
    }
    const stale = await fetch(`${base}/message?sessionId=mcp-1`, { method: 'POST', headers: { Authorization: `Bearer ${endpoint.key}` }, body: '{}' });
    expect([stale.status, await stale.json()]).toEqual([400, { error: { message: 'invalid or expired session', type: 'error' } }]);
    await waitFor(async () => (await plane.api.list(paths.runs(), 'sympozium.ai/source=web-proxy')).some((run: Obj) => run.spec.task === 'raw [slow:200ms]'), 'the raw run');
  });
});
