import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { connect, keyRefresher, type EndpointOptions } from '../chat/connect.js';
import type { RequestRecord } from '../openai/forward.js';
import { clientVars, mcpServersSnippet, proxyBaseUrl, proxyPlaceholderKey } from '../sympozium/client-env.js';
import { isLoopbackHost } from '../openai/http.js';
import { renderEnv, type EnvFormat } from '../ui/env-vars.js';
import { shortDuration } from '../duration.js';

export interface ProxyOptions extends EndpointOptions {
  port: number;
  address: string;
  /** A key local clients must send; `true`: generate one. */
  localKey?: string | true;
  format?: EnvFormat;
  mcp: boolean;
}

/**
 * `sympozium proxy <instance>`: a local OpenAI-compatible and MCP endpoint in front of the instance's. The
 * endpoint is found as `chat` finds it (a public URL, else a port-forward that follows the Service to a new
 * pod); the instance's key is added here, so local clients need none. Results (the lines to use it) go to
 * stdout; one line per request to stderr. Runs until Ctrl-C.
 */
export async function proxy(options: ProxyOptions, ctx: Context): Promise<void> {
  const loopback = isLoopbackHost(options.address);
  const { isIP } = await import('node:net');
  if (!loopback && !isIP(options.address) && options.address !== '0.0.0.0') {
    throw usageError(`--address must be an IP address to listen on, not "${options.address}"`, 'For example: --address 127.0.0.1 (the default) or --address 0.0.0.0 (every interface).');
  }
  const localKey = options.localKey === true ? await generateKey() : options.localKey?.trim() || undefined;
  if (options.localKey !== undefined && options.localKey !== true && !localKey) throw usageError('--local-key is empty', 'Pass a key, or --local-key alone to have one generated.');

  const connection = await connect(ctx, options);
  const target = { baseUrl: connection.target.baseUrl, apiKey: connection.target.apiKey };
  const refreshKey = connection.target.keySource?.startsWith('Secret ') ? keyRefresher(ctx, connection, target) : undefined;
  const { createForwarder } = await import('../openai/forward.js');
  const forwarder = await createForwarder({
    upstream: () => target,
    refreshKey,
    localKey,
    loopbackOnly: loopback,
    onRequest: (record) => logRequest(ctx, record),
    debug: (message) => ctx.out.debug(message),
  });
  const { createServer } = await import('node:http');
  const server = createServer({ noDelay: true }, forwarder.handle);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  try {
    await listen(server, options.port, options.address);
  } catch (error) {
    forwarder.close();
    await connection.close();
    throw error;
  }
  const port = (server.address() as { port: number }).port;
  const baseUrl = proxyBaseUrl(options.address === '0.0.0.0' ? '127.0.0.1' : options.address === '::' ? '::1' : options.address, port);
  const model = connection.instanceObject?.spec?.agents?.default?.model;

  if (options.mcp) ctx.out.result(JSON.stringify(mcpServersSnippet(options.instance, baseUrl, localKey), null, 2));
  else ctx.out.write(renderEnv(clientVars(baseUrl, localKey ?? proxyPlaceholderKey, model), options.format ?? (ctx.out.format === 'json' ? 'json' : 'shell')));
  const upstreamName = connection.endpoint.via === 'port-forward' ? 'through a port-forward to its Service' : `at ${new URL(connection.target.baseUrl).origin}`;
  ctx.out.info(`proxying ${options.instance} (${upstreamName}) on ${baseUrl}: OpenAI at /v1, MCP at /sse; ${localKey ? 'clients must send the local key' : 'the key is added here, clients need none'}. Ctrl-C to stop.`);
  if (!loopback) {
    ctx.out.warn(
      `listening on ${options.address}, not loopback: anyone who can reach ${baseUrl.replace('127.0.0.1', options.address)} can use ${options.instance}'s key through this proxy${localKey ? ' if they have the local key' : ''}. Pass --local-key to require a key of your own.`,
    );
  }

  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) return resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  ctx.out.info('stopping the proxy');
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    // Open streams (an MCP client's /sse) would otherwise keep the server open for as long as they last.
    for (const socket of sockets) socket.destroy();
  });
  forwarder.close();
  await connection.close();
}

async function listen(server: http.Server, port: number, address: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new CliError(`${address}:${port} is already in use`, { hint: 'Pick another with --port, or --port 0 for any free port.' }));
      else if (error.code === 'EACCES') reject(new CliError(`not allowed to listen on ${address}:${port}`, { hint: 'Ports below 1024 need privileges: pick another with --port.' }));
      else if (error.code === 'EADDRNOTAVAIL') reject(usageError(`${address} is not an address of this machine`, 'Pass one of its addresses with --address, or leave it out for 127.0.0.1.'));
      else reject(error);
    });
    server.listen(port, address, () => resolve());
  });
}

/** A fresh local key: 32 random bytes, shaped like an API key so clients and the masking recognise it. */
async function generateKey(): Promise<string> {
  const { randomBytes } = await import('node:crypto');
  return `sk-local-${randomBytes(32).toString('base64url')}`;
}

function logRequest(ctx: Context, record: RequestRecord): void {
  if (ctx.out.format === 'json') {
    ctx.out.stderr.write(`${JSON.stringify({ time: ctx.now().toISOString(), ...record, ms: Math.round(record.ms * 10) / 10 })}\n`);
    return;
  }
  const time = ctx.now().toISOString().slice(11, 19);
  const ms = record.ms < 1000 ? `${record.ms.toFixed(record.ms < 10 ? 1 : 0)}ms` : shortDuration(record.ms);
  ctx.out.info(`${time} ${record.method} ${record.path} ${record.status}${record.aborted ? ' (client went away)' : ''} ${record.run ?? '-'} ${ms}`);
}
