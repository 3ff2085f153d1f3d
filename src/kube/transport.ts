import http from 'node:http';
import https from 'node:https';
import { CliError, InterruptedError } from '../errors.js';
import type { ForwardRoute } from './connector.js';

/**
 * One HTTP exchange with the API server, once the client has decided what to send and over which agent
 * (client.ts): the response as soon as its headers arrive, a silence timeout, Ctrl-C, and the failure said as
 * the caller words it (the connection layer knows whether it was the proxy or the cluster).
 */

export interface Exchange {
  url: URL;
  method: string;
  headers: Record<string, string | string[]>;
  payload?: string;
  /** The connector's agent; unset on a forward route, which has its own. */
  agent?: http.Agent;
  secure: boolean;
  /** An http:// server behind an http(s) proxy: the request goes to the proxy in absolute form. */
  forward?: ForwardRoute;
  signals: AbortSignal[];
  /** Silence longer than this fails the request; 0 for none (watches, log streams). */
  timeoutMs: number;
  timedOut(ms: number): CliError;
  /** A socket error on a direct or tunnelled connection, as the user should read it. */
  failed(error: Error): CliError;
}

export function dispatch(exchange: Exchange): Promise<http.IncomingMessage> {
  const { url, method, headers, forward, signals, timeoutMs } = exchange;
  return new Promise((resolvePromise, reject) => {
    const startedAt = Date.now();
    let responded = false;
    const onResponse = (response: http.IncomingMessage) => {
      responded = true;
      response.once('close', cleanup);
      const refused = forward && forward.refusal(response.statusCode ?? 0, url.host);
      if (refused) {
        response.resume();
        return reject(refused);
      }
      (response as unknown as { startedAt: number }).startedAt = startedAt;
      resolvePromise(response);
    };
    // An http:// server behind an http(s) proxy: the request goes to the proxy in absolute form (GET http://…),
    // as Go's transport sends it; everything else goes to the URL over the connector's agent.
    const request = forward
      ? forward.transport.request({ host: forward.host, port: forward.port, path: url.href, method, headers: { ...headers, ...forward.headers, Host: url.host }, agent: forward.agent }, onResponse)
      : (exchange.secure ? https : http).request(url, { method, headers, agent: exchange.agent }, onResponse);
    if (timeoutMs > 0) request.setTimeout(timeoutMs, () => request.destroy(exchange.timedOut(timeoutMs)));
    // Listeners are removed when the request closes: a command making hundreds of requests on one
    // signal must not pile them up (Node warns past ten).
    const onAbort = () => request.destroy(new InterruptedError());
    for (const signal of signals) {
      if (signal.aborted) request.destroy(new InterruptedError());
      signal.addEventListener('abort', onAbort, { once: true });
    }
    function cleanup() {
      for (const signal of signals) signal.removeEventListener('abort', onAbort);
    }
    // A streamed response (a watch) outlives its request's 'close': keep the listener until the response ends.
    request.once('close', () => {
      if (!responded) cleanup();
    });
    request.on('error', (error) => reject(error instanceof CliError ? error : forward ? forward.failure(error) : exchange.failed(error)));
    request.end(exchange.payload);
  });
}
