/**
 * `pods/<pod>/portforward`: the three ways real clients ask for it, each bridged to the TCP targets the local
 * runtime registered for the pod.
 * - WebSocket `v4.channel.k8s.io` (@kubernetes/client-node's PortForward; ports in `?ports=`).
 * - WebSocket `SPDY/3.1+portforward.k8s.io`: SPDY frames tunnelled in binary WebSocket messages (kubectl 1.31+
 *   tries this first).
 * - Plain SPDY/3.1 after an HTTP 101 (`Upgrade: SPDY/3.1`, `X-Stream-Protocol-Version: portforward.k8s.io`),
 *   kubectl's fallback and the only way older kubectl versions speak.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import { SpdySession } from './spdy.js';
import { servePortForwardOverSpdy } from './spdy-portforward.js';
import type { ForwardContext, PortTarget } from './target.js';
import { parsePortsQuery, servePortForwardOverWebSocket } from './websocket.js';

export type { PortTarget } from './target.js';

const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
const SPDY_TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;
const CHANNEL_PROTOCOL = 'v4.channel.k8s.io';

export type PortForwardOptions = {
  /** The pod's uid, quoted in error messages as the kubelet does. */
  podUid?: string;
};

let webSocketServer: WebSocketServer | undefined;
/**
 * `ws` rejects "SPDY/3.1+portforward.k8s.io" as a subprotocol because "/" is not a token character, so for the
 * tunnel the header is taken off the request before `ws` sees it and put back on the 101 answer here.
 */
const tunnelRequests = new WeakSet<http.IncomingMessage>();

function sharedWebSocketServer(): WebSocketServer {
  if (!webSocketServer) {
    webSocketServer = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(CHANNEL_PROTOCOL) ? CHANNEL_PROTOCOL : false),
    });
    webSocketServer.on('headers', (headers: string[], req: http.IncomingMessage) => {
      if (tunnelRequests.has(req)) headers.push(`Sec-WebSocket-Protocol: ${SPDY_TUNNEL_PROTOCOL}`);
    });
  }
  return webSocketServer;
}

/**
 * Handles an upgrade on `.../namespaces/<ns>/pods/<pod>/portforward` after the caller has authenticated the
 * request and checked that the pod exists and is Running. Takes ownership of `socket`.
 */
export function handlePortForwardUpgrade(
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  resolveTarget: (port: number) => PortTarget | undefined,
  options: PortForwardOptions = {},
): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const match = /\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward\/?$/.exec(url.pathname);
  const context: ForwardContext = {
    namespace: decodeURIComponent(match?.[1] ?? ''),
    pod: decodeURIComponent(match?.[2] ?? ''),
    podUid: options.podUid,
    resolveTarget,
  };
  socket.on('error', () => socket.destroy());
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  if (upgrade === 'websocket') {
    handleWebSocket(req, socket, head, url, context);
  } else if (upgrade === 'spdy/3.1') {
    handleSpdy(req, socket, head, context);
  } else {
    rejectUpgrade(socket, 400, 'BadRequest', 'Upgrade request required');
  }
}

function requestedProtocols(header: string | string[] | undefined): string[] {
  return (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((protocol) => protocol.trim())
    .filter(Boolean);
}

function handleWebSocket(
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  url: URL,
  context: ForwardContext,
): void {
  const offered = requestedProtocols(req.headers['sec-websocket-protocol']);
  const tunnel = offered.includes(SPDY_TUNNEL_PROTOCOL);
  // Like the kubelet, a client that offers no subprotocol at all gets the binary channel protocol.
  if (!tunnel && offered.length > 0 && !offered.includes(CHANNEL_PROTOCOL)) {
    // kubectl treats any non-101 answer to its tunnelling attempt as "not supported" and falls back to SPDY.
    rejectUpgrade(
      socket,
      400,
      'BadRequest',
      `unable to upgrade: requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${SPDY_TUNNEL_PROTOCOL} ${CHANNEL_PROTOCOL}]`,
    );
    return;
  }
  let ports: number[] = [];
  if (tunnel) {
    delete req.headers['sec-websocket-protocol'];
    tunnelRequests.add(req);
  } else {
    try {
      ports = parsePortsQuery(url);
    } catch (error) {
      rejectUpgrade(socket, 400, 'BadRequest', (error as Error).message);
      return;
    }
  }
  sharedWebSocketServer().handleUpgrade(req, socket, head, (ws: WebSocket) => {
    if (tunnel) {
      const transport = createWebSocketStream(ws);
      servePortForwardOverSpdy(new SpdySession(transport), context);
    } else {
      servePortForwardOverWebSocket(ws, ports, context);
    }
  });
}

function handleSpdy(req: http.IncomingMessage, socket: Duplex, head: Buffer, context: ForwardContext): void {
  const offered = requestedProtocols(req.headers['x-stream-protocol-version']);
  if (offered.length === 0) {
    rejectUpgrade(socket, 400, 'BadRequest', 'unable to upgrade: X-Stream-Protocol-Version is required');
    return;
  }
  if (!offered.includes(PORT_FORWARD_PROTOCOL)) {
    rejectUpgrade(
      socket,
      403,
      'Forbidden',
      `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${PORT_FORWARD_PROTOCOL}]`,
    );
    return;
  }
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Connection: Upgrade\r\n' +
      'Upgrade: SPDY/3.1\r\n' +
      `X-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n` +
      `Date: ${new Date().toUTCString()}\r\n\r\n`,
  );
  const tcp = socket as Duplex & { setNoDelay?: (noDelay: boolean) => void; setTimeout?: (ms: number) => void };
  tcp.setNoDelay?.(true);
  tcp.setTimeout?.(0);
  if (head.length > 0) socket.unshift(head);
  servePortForwardOverSpdy(new SpdySession(socket), context);
}

function rejectUpgrade(socket: Duplex, code: number, reason: string, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  const statusText = code === 400 ? 'Bad Request' : code === 403 ? 'Forbidden' : 'Error';
  socket.end(
    `HTTP/1.1 ${code} ${statusText}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
