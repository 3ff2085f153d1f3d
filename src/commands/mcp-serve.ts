import type { Context } from '../context.js';
import { connect, keyRefresher, type EndpointOptions } from '../chat/connect.js';

/**
 * `sympozium mcp <instance> serve --stdio`: the instance's MCP server on stdin/stdout, for the clients that
 * launch a command (`claude mcp add sympozium -- sympozium mcp demo serve --stdio`). stdout carries only
 * JSON-RPC messages; everything else goes to stderr, which those clients show in their MCP logs. Runs until
 * the client closes stdin (or Ctrl-C).
 */
export async function serveMcp(options: EndpointOptions, ctx: Context): Promise<void> {
  const connection = await connect(ctx, options);
  try {
    ctx.out.debug(`MCP: serving ${options.instance} on stdio, relayed to ${connection.endpoint.via === 'port-forward' ? 'a port-forward to its Service' : new URL(connection.target.baseUrl).origin}`);
    const { relayStdio } = await import('../mcp/relay.js');
    await relayStdio({
      target: connection.target,
      input: ctx.stdin,
      write: (line) => ctx.out.write(`${line}\n`),
      signal: ctx.signal,
      debug: (message) => ctx.out.debug(message),
      notice: (message) => ctx.out.warn(message),
      // The target is the relay's: a new key read after a rotation is what its next request sends.
      refreshKey: connection.target.keySource?.startsWith('Secret ') ? keyRefresher(ctx, connection, connection.target) : undefined,
    });
  } finally {
    await connection.close();
  }
}
