/**
 * Port-forwarding over a SPDY session, as the kubelet serves it to kubectl: for every local connection the client
 * opens an "error" stream and a "data" stream with the same `requestid` and `port` headers. Once both have arrived,
 * the data stream is bridged to the pod's port; a failure is written as text on the error stream. Either way the
 * error stream is closed when the connection is over, because kubectl waits for it before closing its local socket.
 */
import type { Socket } from 'node:net';
import { RstStatus } from './spdy-frames.js';
import type { SpdySession, SpdyStream } from './spdy.js';
import { bridge, connectTarget, forwardErrorMessage, type ForwardContext } from './target.js';

/** How long a lone stream waits for its partner, as the kubelet's streamCreationTimeout. */
const STREAM_PAIR_TIMEOUT_MS = 30_000;

type StreamPair = { data?: SpdyStream; error?: SpdyStream; timer: NodeJS.Timeout };

export function servePortForwardOverSpdy(session: SpdySession, context: ForwardContext): void {
  const pairs = new Map<string, StreamPair>();
  const sockets = new Set<Socket>();

  session.on('stream', (stream: SpdyStream) => {
    const streamType = stream.headers['streamtype'];
    if (streamType !== 'data' && streamType !== 'error') {
      stream.refuse(RstStatus.ProtocolError);
      return;
    }
    // Clients older than the requestid header pair streams by id: error stream N, data stream N + 2.
    const requestId =
      stream.headers['requestid'] ?? String(streamType === 'error' ? stream.id : stream.id - 2);
    let pair = pairs.get(requestId);
    if (!pair) {
      const timer = setTimeout(() => timeOut(requestId), STREAM_PAIR_TIMEOUT_MS);
      timer.unref();
      pair = { timer };
      pairs.set(requestId, pair);
    }
    if (pair[streamType]) {
      stream.refuse(RstStatus.ProtocolError);
      return;
    }
    pair[streamType] = stream;
    if (streamType === 'error') {
      // The client never writes to the error stream; it half-closes it at once. Drain it all the same.
      stream.resume();
    }
    if (pair.data && pair.error) {
      clearTimeout(pair.timer);
      pairs.delete(requestId);
      void forward(pair.data, pair.error);
    }
  });

  session.on('close', () => {
    for (const pair of pairs.values()) clearTimeout(pair.timer);
    pairs.clear();
    for (const socket of sockets) socket.destroy();
  });

  function timeOut(requestId: string): void {
    const pair = pairs.get(requestId);
    if (!pair) return;
    pairs.delete(requestId);
    if (pair.error && !pair.error.destroyed) {
      pair.error.end(`timed out waiting for streams of request ${requestId}`);
    }
    pair.data?.refuse(RstStatus.Cancel);
  }

  async function forward(data: SpdyStream, error: SpdyStream): Promise<void> {
    const portHeader = data.headers['port'] ?? '';
    const port = Number(portHeader);
    if (!/^\d+$/.test(portHeader) || port < 1 || port > 65535) {
      fail(error, data, forwardErrorMessage(context, portHeader, `invalid port "${portHeader}"`));
      return;
    }
    // Whatever the client sends before the target is connected stays buffered in the paused stream.
    data.pause();
    const result = await connectTarget(context, port);
    if ('error' in result) {
      fail(error, data, result.error);
      return;
    }
    if (data.destroyed) {
      result.socket.destroy();
      return;
    }
    sockets.add(result.socket);
    await bridge(data, result.socket);
    sockets.delete(result.socket);
    if (!error.destroyed && !error.writableEnded) error.end();
  }

  function fail(error: SpdyStream, data: SpdyStream, message: string): void {
    if (!error.destroyed && !error.writableEnded) error.end(message);
    data.resume();
    if (!data.destroyed && !data.writableEnded) data.end();
  }
}
