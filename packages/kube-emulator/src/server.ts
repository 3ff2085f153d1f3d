/**
 * The HTTP front of the emulator: 127.0.0.1 only, bearer-token authentication, the request log, fault
 * injection, the non-resource endpoints (version, health, discovery, OpenAPI, the test-only `/__emulator/*`
 * paths) and the port-forward upgrade; resource paths go to handlers.ts.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { stringify as toYaml } from 'yaml';
import { Cluster } from './cluster.js';
import { aggregatedDiscovery, AGGREGATED_CONTENT_TYPE, apiGroupDocument, apiGroupList, apiResourceList, apiVersions, wantsAggregated } from './discovery.js';
import { ApiError, badRequest, internalError, unauthorized, unknownResource } from './errors.js';
import { Faults, ruleFromJson, type FaultInjector, type FaultRule } from './faults.js';
import { handleResource, parseResourcePath } from './handlers.js';
import { readBody, sendError, sendJson, type RequestLogEntry } from './http-util.js';
import { OPENAPI_V2_CONTENT_TYPE, OPENAPI_V2_STUB, OpenApi } from './openapi.js';
import { readState, StateWriter } from './persistence.js';
import type { PortTarget } from './portforward/index.js';
import { portForwardUpgradeHandler } from './port-forward-route.js';
import { PodLogs } from './pod-logs.js';
import { jsonOf } from './store.js';
import { selfSignedCertificate } from './tls-cert.js';

export interface ApiServerOptions {
  /** Default 0: a random free port. The server always binds 127.0.0.1. */
  port?: number;
  /** Default: random per start. */
  token?: string;
  /** How long a new connection may stay silent before it is closed (default 10 s; tests shorten it). */
  firstByteTimeoutMs?: number;
  /** Optional persistence (atomic writes, survives a crash mid-write). */
  stateFile?: string;
  /** Events retained for watch replay; a watch from an older resourceVersion gets 410. Default 10000. */
  watchWindow?: number;
  /** Default 60000. */
  bookmarkIntervalMs?: number;
  /** Default 0: CRDs are Established synchronously on create. */
  crdEstablishDelayMs?: number;
  /** How long an Event lives after its last write; default 1 h, kube-apiserver's --event-ttl. */
  eventTtlMs?: number;
  /** Request log sink (one line per request). */
  log?: (line: string) => void;
}

export interface ApiServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /**
   * `https://127.0.0.1:PORT`: the same server over TLS (self-signed). The kubeconfig uses it because kubectl
   * never sends credentials to an `http://` server.
   */
  httpsUrl: string;
  port: number;
  token: string;
  /** A kubeconfig that works for kubectl and client-node (http + insecure-skip-tls-verify + token). */
  kubeconfigYaml(opts?: { contextName?: string; namespace?: string }): string;
  faults: FaultInjector;
  requestLog: RequestLogEntry[];
  /** Points `pods/<pod>/portforward` for one container port at a local TCP target; returns an unregister function. */
  registerPortForward(namespace: string, pod: string, port: number, target: { host: string; port: number }): () => void;
  /** What `pods/<pod>/log` serves: whoever plays a pod's containers writes their output here. */
  podLogs: Pick<PodLogs, 'append' | 'end'>;
  close(): Promise<void>;
}

const VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'go1.23.4',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** How long a new connection may stay silent, and a request take to send its headers. */
const defaultFirstByteTimeoutMs = 10_000;
/** Open connections at once; more are refused at accept, so a flood cannot exhaust the file descriptors. */
const maxConnections = 1_000;

const PUBLIC_PATHS = new Set(['/version', '/healthz', '/livez', '/readyz']);
const MAX_LOG = 20_000;

export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const token = options.token ?? randomBytes(24).toString('hex');
  const firstByteTimeoutMs = options.firstByteTimeoutMs ?? defaultFirstByteTimeoutMs;
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
  const cluster = new Cluster({ watchWindow: options.watchWindow ?? 10_000, crdEstablishDelayMs: options.crdEstablishDelayMs ?? 0, eventTtlMs: options.eventTtlMs });
  // A deleted pod's logs go with it, as the kubelet's do.
  const podLogs = new PodLogs();
  cluster.store.addWatcher({
    storageKey: '/pods',
    namespace: undefined,
    deliver: (event) => {
      if (event.type === 'DELETED') podLogs.remove(event.object?.metadata?.namespace ?? '', event.object?.metadata?.name ?? '');
    },
    terminate: () => {},
  });
  const openapi = new OpenApi(cluster.registry);
  const faults = new Faults();
  const requestLog: RequestLogEntry[] = [];
  const portForwards = new Map<string, PortTarget>();

  let writer: StateWriter | undefined;
  if (options.stateFile) {
    const state = readState(options.stateFile);
    if (state) {
      for (const { storageKey, object } of state.objects) cluster.store.load(storageKey, object);
      cluster.store.rv = state.resourceVersion;
      cluster.store.compactedRv = state.resourceVersion;
      cluster.registerStoredCrds();
    }
    const file = options.stateFile;
    // Built from the cached JSON of each (immutable) stored object, so a snapshot of 10k objects is mostly
    // string concatenation.
    const snapshot = () => {
      const parts: string[] = [];
      for (const storageKey of cluster.store.storageKeys()) {
        const key = JSON.stringify(storageKey);
        for (const object of cluster.store.list(storageKey)) parts.push(`{"storageKey":${key},"object":${jsonOf(object)}}`);
      }
      return `{"version":1,"resourceVersion":${cluster.store.rv},"objects":[${parts.join(',')}]}`;
    };
    writer = new StateWriter(file, snapshot, (err) => options.log?.(`state file write failed: ${err.message}`));
    // Written through before the request is answered: an acknowledged write survives a kill -9.
    cluster.store.onChange(() => writer!.write());
  }
  cluster.bootstrap();

  const authenticated = (req: http.IncomingMessage): boolean => req.headers.authorization === `Bearer ${token}`;

  const logRequest = (req: http.IncomingMessage, url: URL): RequestLogEntry => {
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      headers: {},
      status: 0,
      time: new Date().toISOString(),
    };
    for (const h of ['user-agent', 'content-type', 'accept'] as const) {
      const v = req.headers[h];
      if (typeof v === 'string') entry.headers[h] = v;
    }
    requestLog.push(entry);
    // Trimmed in bulk so a long-running server does not shift a 20k-entry array on every request.
    if (requestLog.length > MAX_LOG + MAX_LOG / 4) requestLog.splice(0, requestLog.length - MAX_LOG);
    return entry;
  };

  const emitLog = (entry: RequestLogEntry) => {
    options.log?.(`${entry.method} ${entry.path}${entry.query ? `?${entry.query}` : ''} ${entry.status} ${entry.headers['user-agent'] ?? ''}`);
  };

  async function route(req: http.IncomingMessage, res: http.ServerResponse, url: URL, fault: FaultRule | undefined): Promise<void> {
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    // pods/{name}/log: the kubelet's logs, proxied by the API server (kubectl logs, -f, --tail, --since).
    if (segments.length === 7 && segments[0] === 'api' && segments[1] === 'v1' && segments[2] === 'namespaces' && segments[4] === 'pods' && segments[6] === 'log') {
      if (req.method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
      const pods = cluster.registry.get('', 'v1', 'pods')!;
      return podLogs.serve(req, res, url, segments[3]!, segments[5]!, cluster.get(pods, segments[3], segments[5]!));
    }
    const accept = req.headers.accept;
    if (path === '/version') return sendJson(res, 200, VERSION);
    if (path === '/healthz' || path === '/livez' || path === '/readyz' || /^\/(healthz|livez|readyz)\//.test(path)) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end('ok');
      return;
    }
    if (path === '/__emulator/faults') {
      if (req.method === 'POST') {
        let rule: FaultRule;
        try {
          rule = ruleFromJson(JSON.parse((await readBody(req)).toString('utf8')));
        } catch (err) {
          throw badRequest((err as Error).message);
        }
        faults.add(rule);
        return sendJson(res, 201, { rules: faults.rules.length });
      }
      if (req.method === 'DELETE') {
        faults.clear();
        return sendJson(res, 200, { rules: 0 });
      }
      return sendJson(res, 200, { rules: faults.rules.map((r) => ({ ...r, path: String(r.path) })) });
    }
    if (path === '/__emulator/requests') return sendJson(res, 200, { items: requestLog });
    if (path === '/__emulator/stats') {
      const memory = process.memoryUsage();
      return sendJson(res, 200, { watches: cluster.store.watcherCount(), connections: sockets.size, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed });
    }
    if (path === '/openapi/v2') {
      res.writeHead(200, { 'Content-Type': OPENAPI_V2_CONTENT_TYPE, 'Content-Length': OPENAPI_V2_STUB.length });
      res.end(OPENAPI_V2_STUB);
      return;
    }
    if (path === '/openapi/v3') return sendJson(res, 200, openapi.root());
    if (path.startsWith('/openapi/v3/')) {
      const doc = openapi.document(path.slice('/openapi/v3/'.length));
      if (!doc) throw unknownResource();
      const etag = `"${doc.hash}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { ETag: etag, 'Content-Type': 'application/json' });
        res.end();
        return;
      }
      const cache = url.searchParams.get('hash') === doc.hash ? 'public, immutable' : 'no-cache, private';
      return sendJson(res, 200, doc.json, { ETag: etag, 'Cache-Control': cache });
    }
    if (path === '/api' || path === '/apis') {
      const aggregated = wantsAggregated(accept);
      if (aggregated) {
        const contentType = aggregated === 'v2' ? AGGREGATED_CONTENT_TYPE : AGGREGATED_CONTENT_TYPE.replace('v=v2', 'v=v2beta1');
        return sendJson(res, 200, aggregatedDiscovery(cluster.registry, path === '/api', aggregated), {}, contentType);
      }
      return sendJson(res, 200, path === '/api' ? apiVersions() : apiGroupList(cluster.registry));
    }
    if (segments[0] === 'apis' && segments.length === 2) {
      const doc = apiGroupDocument(cluster.registry, segments[1]!);
      if (!doc) throw unknownResource();
      return sendJson(res, 200, doc);
    }
    const parsed = parseResourcePath(cluster, segments);
    if (parsed === 'discovery') {
      const group = segments[0] === 'api' ? '' : segments[1]!;
      const version = segments[0] === 'api' ? segments[1]! : segments[2]!;
      const doc = apiResourceList(cluster.registry, group, version);
      if (!doc) throw unknownResource();
      return sendJson(res, 200, doc);
    }
    if (!parsed) throw unknownResource();
    return handleResource(req, res, url, parsed, { cluster, bookmarkIntervalMs, fault });
  }

  const handleRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const entry = logRequest(req, url);
    const done = () => {
      if (entry.status === 0) entry.status = res.statusCode;
      emitLog(entry);
    };
    res.once('finish', done);
    res.once('close', () => {
      if (entry.status === 0) done();
    });
    const run = async () => {
      if (!PUBLIC_PATHS.has(url.pathname) && !authenticated(req)) throw unauthorized();
      const isWatch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
      const fault = faults.take(req.method ?? 'GET', url.pathname, isWatch, url.searchParams.has('dryRun'));
      if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault?.respond) {
        const { status, reason, message } = fault.respond;
        throw new ApiError(status, reason ?? defaultReason(status), message ?? `injected fault: ${status}`, {});
      }
      await route(req, res, url, isWatch ? fault : undefined);
      if (isWatch) entry.status = res.statusCode;
    };
    run().catch((err: unknown) => {
      const apiErr = err instanceof ApiError ? err : internalError((err as Error)?.message ?? String(err));
      if (!(err instanceof ApiError)) options.log?.(`internal error: ${(err as Error)?.stack ?? String(err)}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, apiErr);
    });
  };

  const handleUpgrade = portForwardUpgradeHandler({ cluster, authenticated, portForwards, logRequest, emitLog });

  // One port speaks both HTTP and HTTPS: the first byte of a TLS connection is a handshake record (0x16).
  const httpServer = http.createServer(handleRequest);
  const tlsServer = https.createServer(selfSignedCertificate(), handleRequest);
  for (const s of [httpServer, tlsServer]) {
    s.on('upgrade', handleUpgrade);
    s.keepAliveTimeout = 65_000;
    s.headersTimeout = firstByteTimeoutMs;
  }
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // A connection that never sends its first byte is closed, as Go's server closes one that sends no
    // request header in time; once it speaks, the HTTP server's own timeouts apply.
    socket.setTimeout(firstByteTimeoutMs, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(chunk);
      (chunk[0] === 0x16 ? tlsServer : httpServer).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });

  server.maxConnections = maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const httpsUrl = `https://127.0.0.1:${port}`;

  return {
    url,
    httpsUrl,
    port,
    token,
    faults,
    requestLog,
    kubeconfigYaml(opts = {}) {
      const name = opts.contextName ?? 'sympozium-local';
      return toYaml({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name, cluster: { server: httpsUrl, 'insecure-skip-tls-verify': true } }],
        contexts: [{ name, context: { cluster: name, user: name, namespace: opts.namespace ?? 'default' } }],
        'current-context': name,
        users: [{ name, user: { token } }],
        preferences: {},
      });
    },
    podLogs,
    registerPortForward(namespace, pod, podPort, target) {
      const key = `${namespace}/${pod}/${podPort}`;
      const value = { host: target.host, port: target.port };
      portForwards.set(key, value);
      return () => {
        if (portForwards.get(key) === value) portForwards.delete(key);
      };
    },
    async close() {
      cluster.close();
      cluster.store.terminateWatchers();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        httpServer.closeAllConnections();
        tlsServer.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      writer?.flush();
    },
  };
}

function defaultReason(status: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    405: 'MethodNotAllowed',
    409: 'Conflict',
    410: 'Expired',
    415: 'UnsupportedMediaType',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return reasons[status] ?? 'Unknown';
}
