import type { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { connect } from '../chat/connect.js';
import { shortDuration } from '../duration.js';
import { McpSession, type McpCallResult, type McpTool } from '../mcp/client.js';
import { noResponseContent } from '../openai/types.js';
import type { McpRunWatch } from './mcp-run.js';

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
  /** Ctrl-C also cancels the run the call started; undefined: on a terminal. */
  cancelOnInterrupt?: boolean;
}

/** `sympozium mcp <instance> tools|call`: the web endpoint's MCP server, over its HTTP+SSE transport. */
export async function mcp(options: McpOptions, ctx: Context): Promise<void> {
  const raw = parseArgs(options.args);
  const connection = await connect(ctx, options);
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([ctx.signal, deadline]);
  let session: McpSession | undefined;
  let watch: McpRunWatch | undefined;
  let answered = false;
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
    // Upstream's one tool, ask_agent, makes a run of its `task`: that run is followed as chat follows its own.
    if (typeof args.task === 'string') {
      const { McpRunWatch } = await import('./mcp-run.js');
      watch = new McpRunWatch(connection, options.instance, args.task, ctx);
    }
    let result: McpCallResult;
    try {
      result = await (watch ? Promise.race([session.callTool(tool.name, args), watch.failed]) : session.callTool(tool.name, args));
    } catch (error) {
      throw signal.aborted ? error : ((await watch?.explain(error)) ?? error);
    }
    answered = true;
    await printCallResult(ctx, result, options.instance, watch);
  } catch (error) {
    if (ctx.signal.aborted && !answered && watch) await watch.interrupted(options.cancelOnInterrupt ?? ctx.interactive).catch(() => undefined);
    // Only a call still unanswered timed out: the wait for the run's final status afterwards is bounded on its own.
    if (deadline.aborted && !answered && !ctx.signal.aborted) {
      const known = await watch?.whereabouts();
      throw new CliError(`no answer from the MCP server within ${shortDuration(options.timeoutMs)} (--timeout)${known ? `; ${known.description}` : ''}`, {
        hint: known
          ? `It goes on: follow it with \`sympozium runs tail --run ${known.runName} --until-done\`, or stop it with \`sympozium runs cancel ${known.runName}\`. Raise --timeout for long tasks.`
          : `The agent run may still be working: see \`sympozium runs list --instance ${options.instance}\`. Raise --timeout for long tasks.`,
      });
    }
    throw error;
  } finally {
    watch?.stop();
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

/**
 * The answer on stdout, then (on stderr) the run behind it and its final status, as chat shows them. Upstream's
 * proxy answers "(no response)" when the agent runner gave nothing (internal/webproxy/mcp.go): that is no answer,
 * so it is neither printed as one nor a success, unless the run itself kept a result.
 */
async function printCallResult(ctx: Context, result: McpCallResult, instance: string, watch: McpRunWatch | undefined): Promise<void> {
  const out = ctx.out;
  let text = (result.content ?? [])
    .map((item) => (item.type === 'text' ? (item.text ?? '') : `[${item.type}${item.mimeType ? ` ${item.mimeType}` : ''}]`))
    .join('\n');
  let noAnswer = !result.isError && (text.trim() === '' || text.trim() === noResponseContent);
  const placeholder = text.trim() === noResponseContent;
  if (out.format === 'json' || out.format === 'yaml') out.document(result);
  else if (text && !noAnswer) out.result(text);
  const { runName, run } = (await watch?.settle()) ?? {};
  const kept = run?.status?.phase === 'Succeeded' ? run.status.result?.trim() : undefined;
  if (noAnswer && kept && kept !== noResponseContent) {
    text = kept;
    noAnswer = false;
    if (!out.machine) {
      out.result(text);
      out.info(out.errColor.dim(`(the MCP server sent no text; this is run ${runName}'s status.result)`));
    }
  }
  if (runName) {
    const phase = run?.status?.phase;
    const going = run && phase !== 'Succeeded' && phase !== 'Failed' ? ` (still ${phase || 'Pending'}; its final status comes when its Job ends: sympozium runs get ${runName})` : '';
    const { describeRun } = await import('../chat/turn.js');
    out.info(out.errColor.dim(`${describeRun(runName, run)}${going}`));
  }
  if (run?.status?.phase === 'Failed') {
    const { runFailed } = await import('./mcp-run.js');
    throw runFailed(run, noAnswer ? 'the agent gave no answer' : 'the agent run failed');
  }
  if (noAnswer) {
    const said = placeholder ? ` ("${noResponseContent}")` : '';
    throw new CliError(
      runName ? `the agent gave no answer${said}: run ${runName} is ${run?.status?.phase || 'Pending'}${run?.status?.result?.trim() ? '' : ' with no result'}` : `the agent gave no answer${said}`,
      { hint: runName ? `See the run with \`sympozium runs get ${runName}\` (and its pod's logs).` : `Its run says why: sympozium runs list --instance ${instance}, then sympozium runs get <run>.` },
    );
  }
  if (result.isError) {
    const shown = Boolean(text) && !out.machine;
    throw new CliError(`the tool reported an error${shown || !text ? '' : `: ${text.split('\n')[0]}`}${runName ? ` (run ${runName})` : ''}`, {
      hint: runName ? `The text above is what the agent said; see the run with \`sympozium runs get ${runName}\`.` : 'The text above is what the agent said. `sympozium runs list` shows the run behind it.',
    });
  }
}
