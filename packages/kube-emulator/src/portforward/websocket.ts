/**
 * Port-forwarding over one WebSocket with the `v4.channel.k8s.io` protocol, as the kubelet serves it to
 * @kubernetes/client-node: port i (from `?ports=`) gets data channel 2i and error channel 2i+1; every binary
 * message starts with its channel byte. Each channel first carries the port as two little-endian bytes. The
 * WebSocket is the connection: it closes when the targets are done, and closing it ends the targets.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { connectTarget, type ForwardContext } from './target.js';

/** Reads `ports` (the API server's parameter) or `port` (the kubelet's), repeated or comma-separated. */
export function parsePortsQuery(url: URL): number[] {
  const values = [...url.searchParams.getAll('ports'), ...url.searchParams.getAll('port')];
  if (values.length === 0) throw new Error('query parameter "port" is required');
  const ports: number[] = [];
  for (const value of values) {
    if (value === '') throw new Error('query parameter "port" cannot be empty');
    for (const part of value.split(',')) {
      if (!/^\d+$/.test(part) || Number(part) > 65535) {
        throw new Error(`unable to parse "${value}" as a port: strconv.ParseUint: parsing "${part}": invalid syntax`);
      }
      if (Number(part) < 1) throw new Error(`port "${value}" must be > 0`);
      ports.push(Number(part));
    }
  }
  return ports;
}

/** Sends no more than this much ahead of the client before pausing the target. */
const MAX_BUFFERED = 1024 * 1024;

export function servePortForwardOverWebSocket(ws: WebSocket, ports: number[], context: ForwardContext): void {
  const sockets: (Socket | undefined)[] = [];
  let open = ports.length;
  let closed = false;

  const send = (channel: number, payload: Buffer, callback?: () => void): void => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(Buffer.concat([Buffer.from([channel]), payload]), { binary: true }, () => callback?.());
  };
  const finishOne = (): void => {
    open -= 1;
    if (open === 0 && ws.readyState === ws.OPEN) ws.close(1000);
  };

  ws.on('close', () => {
    closed = true;
    for (const socket of sockets) socket?.destroy();
  });
  ws.on('error', () => ws.terminate());
  ws.on('message', (message: Buffer, isBinary: boolean) => {
    if (!isBinary || message.length === 0) return;
    const channel = message[0]!;
    // Only data channels carry client bytes; anything written on an error channel is ignored, as upstream does.
    if (channel % 2 !== 0) return;
    const socket = sockets[channel / 2];
    if (socket && !socket.destroyed && socket.writable) socket.write(message.subarray(1));
  });

  ports.forEach((port, index) => {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    send(index * 2, portBytes);
    send(index * 2 + 1, portBytes);
  });

  ports.forEach((port, index) => {
    // Bytes the client sends while we dial would be lost, so hold messages for this port until connected.
    const held: Buffer[] = [];
    const hold = (message: Buffer, isBinary: boolean): void => {
      if (isBinary && message[0] === index * 2 && !sockets[index]) held.push(message.subarray(1));
    };
    ws.on('message', hold);
    void connectTarget(context, port).then((result) => {
      ws.off('message', hold);
      if ('error' in result) {
        send(index * 2 + 1, Buffer.from(result.error, 'utf8'), finishOne);
        return;
      }
      const socket = result.socket;
      if (closed) {
        socket.destroy();
        return;
      }
      sockets[index] = socket;
      for (const chunk of held) socket.write(chunk);
      socket.on('data', (chunk: Buffer) => {
        send(index * 2, chunk, () => {
          if (socket.isPaused() && ws.bufferedAmount <= MAX_BUFFERED) socket.resume();
        });
        if (ws.bufferedAmount > MAX_BUFFERED) socket.pause();
      });
      socket.on('error', () => socket.destroy());
      socket.on('close', finishOne);
    });
  });
}
