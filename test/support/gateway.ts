import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What can stand between a client and a Sympozium web proxy (the Envoy gateway, an ingress, a flaky network),
 * in front of a real proxy: dev's, in release mode. It forwards every request and records it (the client's
 * headers and body, which no proxy shows), unless told to fail the next request of a path in a way a gateway
 * can and the proxy itself never does (upstream's proxy sends no 502/503, no Retry-After, never resets a
 * connection). It never answers for the proxy: a success always comes from the proxy behind it.
 *
 * - `status`: the gateway refuses the request itself (a 503 page, a 429 with Retry-After from a rate limiter);
 * - `reset`: the connection drops before any answer; `hang`: the request is held and never forwarded;
 * - `forward-then-503` / `forward-then-hang`: the proxy gets the request (and starts its run), its answer is lost;
 * - `reframe-sse`: the proxy's event stream, re-framed as SSE allows without changing its meaning: a comment
 *   first, CRLF line ends, each data field split over two `data:` lines (joined back with a newline, which JSON
 *   reads as space), no `[DONE]`, delivered in 7-byte pieces that cut through CRLFs and multi-byte characters.
 */

type GatewayFault = { path?: string } & (
  | { kind: 'status'; status: number; body?: string; contentType?: string; retryAfter?: string }
  | { kind: 'reset' | 'hang' | 'forward-then-503' | 'forward-then-hang' | 'reframe-sse' }
);

interface GatewayRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  fault?: GatewayFault['kind'];
  /** The run a chat answer names (`chatcmpl-<run>`), when one came back through the gateway. */
  run?: string;
}

export interface Gateway {
  url: string;
  seen: GatewayRequest[];
  /** Faults for the next requests of a path (default /v1/chat/completions), in order. */
  enqueue(...faults: GatewayFault[]): void;
  stop(): Promise<void>;
}

const defaultPath = '/v1/chat/completions';

function reframe(stream: string): Buffer {
  const events = stream.split('\n\n').filter((event) => event && event !== 'data: [DONE]');
  const framed = events.map((event) => {
    const data = event.replace(/^data: /, '');
    const cut = data.indexOf(',') + 1;
    return cut > 0 ? `data: ${data.slice(0, cut)}\r\ndata: ${data.slice(cut)}\r\n\r\n` : `data: ${data}\r\n\r\n`;
  });
  return Buffer.from(`: a comment\r\n\r\n${framed.join('')}`, 'utf8');
}

export async function startGateway(target: string): Promise<Gateway> {
  const faults: GatewayFault[] = [];
  const seen: GatewayRequest[] = [];
  const sockets = new Set<Socket>();
  const nextFault = (path: string) => {
    const index = faults.findIndex((fault) => (fault.path ?? defaultPath) === path);
    return index < 0 ? undefined : faults.splice(index, 1)[0];
  };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    const fault = nextFault(path);
    const record: GatewayRequest = { method: req.method ?? 'GET', path, headers: req.headers, body: body.toString('utf8'), fault: fault?.kind };
    seen.push(record);
    if (fault?.kind === 'reset') return req.socket.destroy();
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = { 'Content-Type': fault.contentType ?? 'text/html', ...(fault.retryAfter ? { 'Retry-After': fault.retryAfter } : {}) };
      return void res.writeHead(fault.status, headers).end(fault.body ?? `<html><body>${fault.status} from the gateway</body></html>`);
    }
    const outgoing = http.request(new URL(req.url ?? '/', target), { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, (answer) => {
      const noteRun = (text: string) => {
        record.run ??= /"id":"chatcmpl-([a-z0-9-]+)"/.exec(text)?.[1];
      };
      if (fault) {
        const parts: Buffer[] = [];
        answer.on('data', (part: Buffer) => parts.push(part));
        answer.on('end', async () => {
          const text = Buffer.concat(parts).toString('utf8');
          noteRun(text);
          if (fault.kind === 'forward-then-503') return void res.writeHead(503, { 'Content-Type': 'text/html' }).end('<html><body>upstream connect error</body></html>');
          if (fault.kind === 'forward-then-hang') return;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          const bytes = reframe(text);
          for (let at = 0; at < bytes.length; at += 7) {
            res.write(bytes.subarray(at, at + 7));
            await new Promise((resolve) => setTimeout(resolve, 2));
          }
          res.end();
        });
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      let head = '';
      answer.on('data', (part: Buffer) => {
        if (head.length < 8192) noteRun((head += part.toString('utf8')));
        res.write(part);
      });
      answer.on('end', () => res.end());
      res.on('close', () => answer.destroy());
    });
    outgoing.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
    });
    res.on('close', () => outgoing.destroy());
    outgoing.end(body);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    enqueue: (...more) => void faults.push(...more),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
