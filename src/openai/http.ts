import http from 'node:http';

/**
 * One HTTP exchange over node:http(s). Not fetch: node's fetch loads undici on first use, which costs a
 * one-shot `chat` more than the whole request does, and node:http is already in memory.
 */

export interface HttpRequest {
  url: URL;
  method?: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  agent?: http.Agent;
  /** Called once the whole request has been handed to the socket. */
  onSent?: () => void;
}

/** node:https (and with it TLS) is loaded only for https:// endpoints: a plain local endpoint never pays for it. */
export async function transportFor(url: URL): Promise<typeof http | typeof import('node:https')> {
  return url.protocol === 'https:' ? (await import('node:https')).default : http;
}

/** A keep-alive agent for the endpoint, so a session reuses one connection (one tunnel when port-forwarding). */
export async function keepAliveAgent(url: URL): Promise<http.Agent> {
  return new (await transportFor(url)).Agent({ keepAlive: true });
}

export async function send(request: HttpRequest): Promise<http.IncomingMessage> {
  const transport = await transportFor(request.url);
  return new Promise((resolvePromise, reject) => {
    if (request.signal.aborted) return reject(request.signal.reason);
    const outgoing = transport.request(
      request.url,
      { method: request.method ?? 'GET', headers: request.headers, agent: request.agent, signal: request.signal },
      resolvePromise,
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      // node reports an aborted request as an AbortError; hand back the reason the signal carries instead.
      reject(request.signal.aborted ? request.signal.reason : error);
    });
    if (request.onSent) outgoing.once('finish', request.onSent);
    outgoing.end(request.body);
  });
}

/** The whole body as text, bounded so a misbehaving server cannot fill memory. */
export async function readText(response: http.IncomingMessage, limit = 32 * 1024 * 1024): Promise<string> {
  response.setEncoding('utf8');
  let text = '';
  for await (const chunk of response as AsyncIterable<string>) {
    text += chunk;
    if (text.length > limit) {
      response.destroy();
      throw new Error(`the reply is larger than ${limit} bytes`);
    }
  }
  return text;
}

/** Socket-level error code, looking through wrappers. */
export function socketCode(error: unknown): string | undefined {
  const direct = (error as NodeJS.ErrnoException | undefined)?.code;
  if (direct) return direct;
  const cause = (error as { cause?: NodeJS.ErrnoException } | undefined)?.cause;
  if (cause?.code) return cause.code;
  return (error as Error | undefined)?.message === 'socket hang up' ? 'ECONNRESET' : undefined;
}

/** 127.0.0.0/8, ::1 and localhost: a key sent there never crosses a network. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  // URL() writes an IPv4-mapped address in hex: [::ffff:127.0.0.1] becomes [::ffff:7f00:1].
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:7f[0-9a-f]{2}:/.test(host);
}
