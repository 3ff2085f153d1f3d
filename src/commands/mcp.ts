import type { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { connect } from '../chat/connect.js';
import { shortDuration } from '../duration.js';
import { McpSession, type McpCallResult, type McpTool } from '../mcp/client.js';
import { noResponseContent } from '../openai/types.js';

export interface McpOptions {
  instance: string;
  action: 'tools' | 'call';
  tool?: string;
  args: string[];
  url?: string;
  key?: string;
  keyFile?: string;
  allowHttp?: boolean;
  timeoutMs: number;
}

/** `sympozium mcp <instance> tools|call`: the web endpoint's MCP server, over its HTTP+SSE transport. */
export async function mcp(options: McpOptions, ctx: Context): Promise<void> {
  const raw = parseArgs(options.args);
  const connection = await connect(ctx, options);
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([ctx.signal, deadline]);
  let session: McpSession | undefined;
  try {
    session = await McpSession.connect(connection.target, { signal, debug: (m) => ctx.out.debug(m), onRetry: (m) => ctx.out.info(m) });
    const tools = await session.listTools();
    if (options.action === 'tools') return printTools(ctx, tools);

    const tool = tools.find((candidate) => candidate.name === options.tool);
    if (!tool) {
      throw usageError(`the web endpoint has no MCP tool "${options.tool}"`, `Its tools: ${tools.map((t) => t.name).join(', ') || 'none'}.`);
    }
    const args = coerceArgs(raw, tool);
    const missing = (tool.inputSchema?.required ?? []).filter((name) => !(name in args));
    if (missing.length > 0) {
      throw usageError(`${tool.name} needs ${missing.map((name) => `--arg ${name}=...`).join(' ')}`, `For example: sympozium mcp ${options.instance} call ${tool.name} --arg ${missing[0]}="..."`);
    }
    const result = await session.callTool(tool.name, args);
    printCallResult(ctx, result, options.instance);
  } catch (error) {
    if (deadline.aborted && !ctx.signal.aborted) {
      throw new CliError(`no answer from the MCP server within ${shortDuration(options.timeoutMs)} (--timeout)`, {
        hint: `The agent run may still be working: see \`sympozium runs list --instance ${options.instance}\`. Raise --timeout for long tasks.`,
      });
    }
    throw error;
  } finally {
    session?.close();
    await connection.close();
  }
}

/** `k=v` pairs; a value stays text unless the tool's schema says otherwise (see coerceArgs). */
function parseArgs(pairs: string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (const pair of pairs) {
    const index = pair.indexOf('=');
    if (index <= 0) throw usageError(`--arg must be name=value, not "${pair}"`, 'For example: --arg task="list the pods"');
    args.set(pair.slice(0, index), pair.slice(index + 1));
  }
  return args;
}

/**
 * Values are JSON where the tool wants something other than a string (`--arg count=3`, `--arg opts='{"a":1}'`);
 * a string parameter gets the text as typed, so `--arg task=42` stays "42".
 */
function coerceArgs(raw: Map<string, string>, tool: McpTool): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [name, value] of raw) {
    const type = tool.inputSchema?.properties?.[name]?.type;
    if (type === 'string') {
      args[name] = value;
      continue;
    }
    try {
      args[name] = JSON.parse(value);
    } catch {
      args[name] = value;
    }
  }
  return args;
}

function printTools(ctx: Context, tools: McpTool[]): void {
  const out = ctx.out;
  if (out.format === 'json' || out.format === 'yaml') return out.document({ tools });
  if (out.format === 'name') {
    for (const tool of tools) out.result(tool.name);
    return;
  }
  if (tools.length === 0) return out.info('the MCP server offers no tools');
  out.table(
    ['NAME', 'ARGUMENTS', 'DESCRIPTION'],
    tools.map((tool) => {
      const required = new Set(tool.inputSchema?.required ?? []);
      const params = Object.entries(tool.inputSchema?.properties ?? {}).map(([name, schema]) => `${name}${required.has(name) ? '' : '?'}: ${schema.type ?? 'any'}`);
      return [tool.name, params.join(', '), (tool.description ?? '').split('\n')[0]!];
    }),
  );
}

function printCallResult(ctx: Context, result: McpCallResult, instance: string): void {
  const out = ctx.out;
  const text = (result.content ?? [])
    .map((item) => (item.type === 'text' ? (item.text ?? '') : `[${item.type}${item.mimeType ? ` ${item.mimeType}` : ''}]`))
    .join('\n');
  // Upstream's proxy answers "(no response)" when the agent runner gave nothing (internal/webproxy/mcp.go):
  // that is no answer, so it is neither printed as one nor a success.
  const noAnswer = !result.isError && (text.trim() === '' || text.trim() === noResponseContent);
  if (out.format === 'json' || out.format === 'yaml') out.document(result);
  else if (text && !noAnswer) out.result(text);
  if (noAnswer) {
    throw new CliError(`the agent gave no answer${text.trim() ? ` ("${noResponseContent}")` : ''}`, {
      hint: `Its run says why: sympozium runs list --instance ${instance}, then sympozium runs get <run>.`,
    });
  }
  if (result.isError) {
    const shown = Boolean(text) && !out.machine;
    throw new CliError(`the tool reported an error${shown || !text ? '' : `: ${text.split('\n')[0]}`}`, {
      hint: 'The text above is what the agent said. `sympozium runs list` shows the run behind it.',
    });
  }
}
