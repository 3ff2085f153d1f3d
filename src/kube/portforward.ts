import net from 'node:net';
import { Writable } from 'node:stream';
import { CliError } from '../errors.js';
import type { KubeClient } from './client.js';
import { isNotFound } from './errors.js';

/**
 * `kubectl port-forward` for one command: a listener on 127.0.0.1 whose every connection is carried to a pod
 * port through the API server (the WebSocket portforward subresource, spoken by client-node's PortForward).
 * client-node is imported only here and only when a forward is really opened, so commands that reach an
 * endpoint directly never pay for loading it. Its WebSockets are opened with the KubeClient's own agent and
 * identity headers (connector.ts), so a proxy, the TLS trust and the credentials are those of every request.
 */

export interface PortForwardTarget {
  namespace: string;
  /** A Service: its selector picks a Running pod and its targetPort the pod port. */
  service?: string;
  /** A pod, used as is. */
  pod?: string;
  /** The Service port when `service` is given, else the pod port. */
  port: number;
}

export interface PortForwardHandle {
  localPort: number;
  url: string;
  /** The pod and port new connections reach (a restarted pod is followed), for --verbose. */
  pod: string;
  podPort: number;
  /** Ends every forwarded connection and the listener. Safe to call more than once. */
  close(): Promise<void>;
}

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
}
interface ServiceObject {
  spec?: { selector?: Record<string, string>; ports?: ServicePort[] };
}
interface PodObject {
  metadata: { name: string; deletionTimestamp?: string };
  spec?: { containers?: { ports?: { name?: string; containerPort: number }[] }[] };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

export async function openPortForward(
  kube: KubeClient,
  target: PortForwardTarget,
  options: { signal?: AbortSignal; debug?: (message: string) => void } = {},
): Promise<PortForwardHandle> {
  // Mutable: when the pod goes away (a restart after a key rotation), new connections go to its successor.
  let current = await resolveTarget(kube, target);
  // The two modules by their own paths: the package's index would also load every generated API client,
  // about eight times as much code, for nothing a port-forward uses.
  const [{ PortForward }, { WebSocketHandler }] = await Promise.all([
    import('@kubernetes/client-node/dist/portforward.js'),
    import('@kubernetes/client-node/dist/web-socket-handler.js'),
  ]);
  // WebSocketHandler asks its config for two things only (web-socket-handler.js connect()): the server URL and
  // the options of the WebSocket (ws: agent, headers). Ours answer both, so client-node's KubeConfig, its own
  // kubeconfig reading and its own proxy handling (proxy-url only, no NO_PROXY) never run. Asked per
  // WebSocket, so a refreshed exec token is the one each new connection carries.
  const socketConfig = {
    getCurrentCluster: () => ({ server: kube.config.server }),
    applyToHTTPSOptions: async (options: Record<string, unknown>) => {
      const { agent, headers } = await kube.upgradeOptions();
      Object.assign(options, { agent, headers });
    },
  };
  const forward = new PortForward(socketConfig as never, true, new WebSocketHandler(socketConfig as never));

  const sockets = new Set<net.Socket>();
  const webSockets = new Set<{ close(): void }>();
  let closing = false;

  const tunnel = (socket: net.Socket, retried: boolean): void => {
    const { pod, port } = current;
    // Errors the kubelet reports on the error channel (for example "connection refused" inside the pod).
    const errors = new Writable({
      write(chunk: Buffer, _encoding, done) {
        // The channel also carries framing bytes (the port number); only text is a message worth showing.
        const text = chunk.toString('utf8').trim();
        if (/[a-z]/i.test(text)) options.debug?.(`port-forward to ${target.namespace}/${pod}:${port}: ${text}`);
        done();
      },
    });
    forward.portForward(target.namespace, pod, [port], socket, errors, socket).then(
      (result) => {
        const ws = (typeof result === 'function' ? result() : result) as unknown as { close(): void; on?: (event: string, listener: () => void) => void } | null;
        if (!ws) return void socket.destroy();
        webSockets.add(ws);
        // client-node does not end the local socket when the tunnel closes; without this, the HTTP client
        // would wait forever for the rest of a response that will never come.
        ws.on?.('close', () => {
          webSockets.delete(ws);
          socket.end();
        });
        socket.on('close', () => ws.close());
        if (socket.destroyed || closing) ws.close();
      },
      async (error: unknown) => {
        options.debug?.(`port-forward to ${target.namespace}/${pod}:${port} failed: ${describeError(error)}`);
        // Nothing has been read from the local socket yet (client-node reads it only once the tunnel is open),
        // so a Service's connection can be tried once more against whichever pod serves it now.
        if (!retried && target.service && !closing && !socket.destroyed) {
          const next = await resolveTarget(kube, target).catch(() => undefined);
          if (next && next.pod !== pod) {
            options.debug?.(`port-forward now goes to pod ${next.pod}:${next.port}`);
            current = next;
            return tunnel(socket, true);
          }
        }
        socket.destroy();
      },
    );
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A client that goes away mid-write must not crash the command.
    socket.on('error', () => socket.destroy());
    tunnel(socket, false);
  });

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolvePromise());
  });
  const localPort = (server.address() as net.AddressInfo).port;
  options.debug?.(`port-forward 127.0.0.1:${localPort} -> ${target.namespace}/pod/${current.pod}:${current.port}`);

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= new Promise<void>((resolvePromise) => {
      closing = true;
      options.signal?.removeEventListener('abort', onAbort);
      for (const ws of webSockets) ws.close();
      for (const socket of sockets) socket.destroy();
      server.close(() => resolvePromise());
    }));
  const onAbort = () => void close();
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  return {
    localPort,
    url: `http://127.0.0.1:${localPort}`,
    get pod() {
      return current.pod;
    },
    get podPort() {
      return current.port;
    },
    close,
  };
}

async function resolveTarget(kube: KubeClient, target: PortForwardTarget): Promise<{ pod: string; port: number }> {
  const ns = encodeURIComponent(target.namespace);
  if (target.pod) {
    const pod = await kube.getOrUndefined<PodObject>(`/api/v1/namespaces/${ns}/pods/${encodeURIComponent(target.pod)}`);
    if (!pod) throw new CliError(`pod ${target.pod} does not exist in namespace ${target.namespace}`);
    if (pod.status?.phase !== 'Running') {
      throw new CliError(`pod ${target.pod} is ${pod.status?.phase ?? 'not running'}, so nothing can be forwarded to it`, {
        hint: `Look at it with \`kubectl -n ${target.namespace} describe pod ${target.pod}\`.`,
      });
    }
    return { pod: target.pod, port: target.port };
  }
  if (!target.service) throw new Error('openPortForward needs a service or a pod');

  let service: ServiceObject;
  try {
    service = await kube.get<ServiceObject>(`/api/v1/namespaces/${ns}/services/${encodeURIComponent(target.service)}`);
  } catch (error) {
    if (isNotFound(error)) {
      throw new CliError(`service ${target.service} does not exist in namespace ${target.namespace}`, { cause: error });
    }
    throw error;
  }
  const servicePort = service.spec?.ports?.find((candidate) => candidate.port === target.port) ?? (service.spec?.ports?.length === 1 ? service.spec.ports[0] : undefined);
  if (!servicePort) throw new CliError(`service ${target.service} has no port ${target.port}`);
  const selector = service.spec?.selector ?? {};
  if (Object.keys(selector).length === 0) {
    throw new CliError(`service ${target.service} has no selector, so there is no pod to forward to`);
  }
  const labelSelector = Object.entries(selector)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  const pods = await kube.list<PodObject>(`/api/v1/namespaces/${ns}/pods`, { labelSelector });
  // Prefer a pod that is Ready, like kubectl; a Running one that is not Ready yet may still accept connections.
  const running = pods.items.filter((pod) => pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp);
  const ready = running.filter((pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  const pod = ready[0] ?? running[0];
  if (!pod) {
    throw new CliError(`no running pod behind service ${target.service} in namespace ${target.namespace}`, {
      hint: `Look at the pods with \`kubectl -n ${target.namespace} get pods -l ${labelSelector}\`.`,
    });
  }
  const targetPort = servicePort.targetPort ?? servicePort.port;
  if (typeof targetPort === 'number') return { pod: pod.metadata.name, port: targetPort };
  if (/^\d+$/.test(targetPort)) return { pod: pod.metadata.name, port: Number(targetPort) };
  const named = pod.spec?.containers?.flatMap((container) => container.ports ?? []).find((candidate) => candidate.name === targetPort);
  if (!named) {
    throw new CliError(`pod ${pod.metadata.name} has no container port named "${targetPort}" (the targetPort of service ${target.service})`);
  }
  return { pod: pod.metadata.name, port: named.containerPort };
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  const event = error as { message?: string; error?: Error } | undefined;
  return event?.error?.message ?? event?.message ?? String(error);
}
