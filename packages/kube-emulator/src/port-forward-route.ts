/**
 * The `pods/<pod>/portforward` upgrade (WebSocket or SPDY): authenticate, check that the pod exists and is
 * Running (else the upstream error as an HTTP reply), resolve each requested container port to a local TCP
 * target (a `registerPortForward` registration, else the pod's `local.sympozium.ai/port-forward` annotation,
 * JSON `{"8080":"127.0.0.1:43123"}`), then hand the socket to the port-forward protocols.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Cluster } from './cluster.js';
import { ApiError, badRequest, internalError, notFound, unauthorized } from './errors.js';
import { handlePortForwardUpgrade, type PortTarget } from './portforward/index.js';
import type { RequestLogEntry } from './http-util.js';

export const PORT_FORWARD_ANNOTATION = 'local.sympozium.ai/port-forward';

function parseHostPort(value: string): PortTarget | undefined {
  const i = value.lastIndexOf(':');
  if (i <= 0) return undefined;
  const host = value.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(value.slice(i + 1));
  return Number.isInteger(port) && port > 0 && port < 65536 ? { host, port } : undefined;
}

export interface UpgradeDeps {
  cluster: Cluster;
  authenticated: (req: http.IncomingMessage) => boolean;
  /** `namespace/pod/port` -> target, from registerPortForward. */
  portForwards: Map<string, PortTarget>;
  logRequest: (req: http.IncomingMessage, url: URL) => RequestLogEntry;
  emitLog: (entry: RequestLogEntry) => void;
}

export function portForwardUpgradeHandler({ cluster, authenticated, portForwards, logRequest, emitLog }: UpgradeDeps) {
  return (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const entry = logRequest(req, url);
    const reject = (err: ApiError) => {
      entry.status = err.code;
      emitLog(entry);
      const body = JSON.stringify(err.toStatus());
      socket.end(
        `HTTP/1.1 ${err.code} ${http.STATUS_CODES[err.code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    socket.on('error', () => socket.destroy());
    if (!authenticated(req)) return reject(unauthorized());
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward\/?$/.exec(url.pathname);
    if (!m) return reject(badRequest('upgrade is only supported for pods/portforward'));
    const namespace = decodeURIComponent(m[1]!);
    const podName = decodeURIComponent(m[2]!);
    const podType = cluster.registry.get('', 'v1', 'pods')!;
    const pod = cluster.store.get(podType.storageKey, namespace, podName);
    if (!pod) return reject(notFound('', 'pods', podName));
    const phase = pod.status?.phase;
    if (phase !== 'Running') {
      return reject(badRequest(`unable to upgrade connection: pod ${podName} is not running. Current status=${phase ?? 'Pending'}`));
    }
    let annotated: Record<string, string> = {};
    try {
      const raw = pod.metadata.annotations?.[PORT_FORWARD_ANNOTATION];
      if (typeof raw === 'string') annotated = JSON.parse(raw) as Record<string, string>;
    } catch {
      annotated = {};
    }
    const resolveTarget = (port: number): PortTarget | undefined => {
      const registered = portForwards.get(`${namespace}/${podName}/${port}`);
      if (registered) return registered;
      const value = annotated[String(port)];
      return typeof value === 'string' ? parseHostPort(value) : undefined;
    };
    entry.status = 101;
    emitLog(entry);
    try {
      handlePortForwardUpgrade(req, socket, head, resolveTarget, { podUid: pod.metadata.uid });
    } catch (err) {
      reject(internalError((err as Error).message));
    }
  };
}
