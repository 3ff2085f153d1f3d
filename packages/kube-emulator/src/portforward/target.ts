/**
 * The pod side of a forwarded connection: dialing the TCP target the local runtime registered for a pod port, and
 * the error text a kubelet would report when that fails. Clients print that text verbatim, so it follows the
 * kubelet's shape: "error forwarding port 8080 to pod web-1, uid <uid>: <why>".
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';

export type PortTarget = { host: string; port: number };

export type ForwardContext = {
  namespace: string;
  pod: string;
  podUid?: string;
  resolveTarget: (port: number) => PortTarget | undefined;
};

/** Go's wording for the dial errors a local target produces, so messages read like a real cluster's. */
function goDialReason(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connect: connection refused';
    case 'EHOSTUNREACH':
      return 'connect: no route to host';
    case 'ENETUNREACH':
      return 'connect: network is unreachable';
    case 'ETIMEDOUT':
      return 'i/o timeout';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'no such host';
    default:
      return error.message;
  }
}

export function forwardErrorMessage(context: ForwardContext, port: number | string, reason: string): string {
  return `error forwarding port ${port} to pod ${context.pod}, uid ${context.podUid ?? ''}: ${reason}`;
}

export type ConnectResult = { socket: net.Socket } | { error: string };

/**
 * Connects to the target registered for `port`. A port nobody registered behaves like a port nothing listens on
 * inside the pod: connection refused.
 */
export function connectTarget(context: ForwardContext, port: number): Promise<ConnectResult> {
  const target = context.resolveTarget(port);
  const failure = (dialed: string, reason: string): ConnectResult => ({
    error: forwardErrorMessage(
      context,
      port,
      `failed to connect to localhost:${port} inside namespace of pod "${context.namespace}/${context.pod}": dial tcp ${dialed}: ${reason}`,
    ),
  });
  if (!target) return Promise.resolve(failure(`127.0.0.1:${port}`, 'connect: connection refused'));
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const onError = (error: NodeJS.ErrnoException): void => {
      socket.destroy();
      resolve(failure(`${target.host}:${target.port}`, goDialReason(error)));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      socket.setNoDelay(true);
      resolve({ socket });
    });
  });
}

/**
 * Copies bytes both ways between a client stream and the target socket, half-closing each side when the other
 * ends. Resolves once the target socket is closed, which is when the pod side of the connection is over.
 */
export function bridge(stream: Duplex, socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    stream.pipe(socket);
    socket.pipe(stream);
    socket.on('error', () => socket.destroy());
    stream.on('error', () => socket.destroy());
    stream.on('close', () => socket.destroy());
    socket.on('close', () => {
      stream.unpipe(socket);
      // Whatever the client still sends has nowhere to go; drain it so the stream can finish.
      stream.resume();
      if (!stream.writableEnded && !stream.destroyed) stream.end();
      resolve();
    });
  });
}
