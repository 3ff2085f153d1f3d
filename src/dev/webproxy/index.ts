import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Informer } from '../controller/informer.js';
import { decodeSecret, type Secret } from '../controller/resources.js';
import { sendError } from './http.js';
import { McpSessions } from './mcp.js';
import { chatCompletions, listModels, type RouteContext } from './openai.js';
import { TokenBucket } from './rate-limit.js';
import type { ReleaseProfile } from '../controller/release-profile.js';
import type { RunBroker } from './runs.js';

export { RunBroker } from './runs.js';

/**
 * The web proxy of one serving instance: the local stand-in for upstream's web-proxy sidecar. It listens on
 * 127.0.0.1 (the emulator's port-forward bridges the server pod's port 8080 to it), checks the Bearer key against
 * the key its serving pod started with (upstream's process reads it once from its environment), applies the
 * token bucket (before the key at v0.10.46, after it at v0.5.8), and turns each chat or MCP call into a task
 * AgentRun. Routes, texts and status codes are upstream's Handler (internal/webproxy/proxy.go).
 */

export interface ProxyConfig {
  namespace: string;
  instance: string;
  rpm: number;
  burst: number;
  /** The Secret holding the key under `api-key`. */
  keySecretName: string;
}

export interface ProxyDeps {
  broker: RunBroker;
  /** Which release's proxy to be: v0.10 limits the rate before it checks the key, v0.5.8 after. */
  profile: Pick<ReleaseProfile, 'webProxyV010'>;
  secrets: Informer<Secret>;
  /** v0.5.8's spec.timeout for the proxy's runs (timings.webRunTimeout, upstream's 10m). */
  runTimeout: string;
  /** How long a request waits for its run (timings.proxyTimeoutMs, upstream's 10 minutes). */
  proxyTimeoutMs: number;
  log: (line: string) => void;
  /** The web-proxy container's own log lines (upstream's `p.log.Info`), kept as the serving pod's logs. */
  containerLog?: (namespace: string, instance: string, message: string, fields: Record<string, string>) => void;
}

export class WebProxy {
  private readonly server: http.Server;
  private readonly bucket: TokenBucket;
  private readonly mcp: McpSessions;
  private config: ProxyConfig;
  /** The key as it was when the serving pod last started (what upstream's process holds in its environment). */
  private startedKey?: string;
  port = 0;

  constructor(config: ProxyConfig, private readonly deps: ProxyDeps) {
    this.config = config;
    this.bucket = new TokenBucket(config.rpm, config.burst);
    this.mcp = new McpSessions();
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error) => {
        deps.log(`web proxy ${this.name}: ${req.method} ${req.url} failed: ${(error as Error).message}`);
        if (!res.headersSent) sendError(res, 500, 'internal error in the web proxy');
        else res.end();
      });
    });
    this.server.keepAliveTimeout = 30_000;
  }

  get name(): string {
    return `${this.config.namespace}/${this.config.instance}`;
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  configure(config: ProxyConfig): void {
    if (config.rpm !== this.config.rpm || config.burst !== this.config.burst) {
      this.bucket.configure(config.rpm, config.burst);
      this.deps.log(`web proxy ${this.name}: rate limit now ${config.rpm}/min, burst ${config.burst}`);
    }
    this.config = config;
  }

  async close(): Promise<void> {
    this.mcp.closeAll();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private context(noteRun: (run: string) => void): RouteContext {
    const { namespace, instance } = this.config;
    const containerLog = this.deps.containerLog;
    return {
      namespace,
      instance,
      broker: this.deps.broker,
      runTimeout: this.deps.runTimeout,
      proxyTimeoutMs: this.deps.proxyTimeoutMs,
      log: this.deps.log,
      containerLog: (message, fields) => containerLog?.(namespace, instance, message, fields),
      noteRun,
    };
  }

  private currentKey(): string | undefined {
    return decodeSecret(this.deps.secrets.get(this.config.namespace, this.config.keySecretName))?.['api-key'];
  }

  /**
   * The serving pod (re)started: upstream's web-proxy is a new process that took its key from the environment
   * (WEB_PROXY_API_KEY, set from the key Secret when the container started; cmd/web-proxy/main.go) and built a
   * new RateLimiter. So a rotated key is accepted, and the old one refused, only once the pod has restarted.
   */
  restarted(): void {
    this.startedKey = this.currentKey();
    this.bucket.configure(this.config.rpm, this.config.burst);
    this.bucket.refillAll();
  }

  /** upstream's authMiddleware: `Bearer ` exactly, then the token compared with the one key, in constant time. */
  private authorized(req: http.IncomingMessage): { ok: true } | { ok: false; message: string } {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Bearer ')) return { ok: false, message: 'missing or invalid Authorization header' };
    // Before the pod has started there is no process yet; dev's proxy then reads the Secret as it is.
    const expected = this.startedKey ?? this.currentKey() ?? '';
    const given = Buffer.from(header.slice('Bearer '.length));
    const wanted = Buffer.from(expected);
    if (!expected || given.length !== wanted.length || !timingSafeEqual(given, wanted)) return { ok: false, message: 'invalid API key' };
    return { ok: true };
  }


  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // The path as Go's r.URL.Path has it (a `//` prefix is a path here, not a host).
    const raw = req.url ?? '/';
    const query = raw.indexOf('?');
    const url = new URL(`http://localhost${query < 0 ? '' : raw.slice(query)}`);
    url.pathname = decodePath(query < 0 ? raw : raw.slice(0, query));
    const route = `${req.method} ${url.pathname}`;
    const started = Date.now();
    let run: string | undefined;
    // An access log line (no headers, so never a key): what `sympozium dev logs` shows of the proxy.
    if (url.pathname !== '/healthz') {
      res.once('finish', () => this.deps.log(`web proxy ${this.name}: ${route} ${res.statusCode} ${Date.now() - started}ms${run ? ` run ${run}` : ''}`));
    }
    // As upstream's Handler (internal/webproxy/proxy.go, v0.5.8 and v0.10.46): only GET /healthz skips the key;
    // everything else, unknown paths included, passes authMiddleware first, then Go's ServeMux, which answers
    // a wrong method with 405 and an unknown path with 404 in plain text. No Retry-After on a 429.
    if (url.pathname === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok');
      return;
    }
    const limited = () => {
      if (this.bucket.allow()) return false;
      sendError(res, 429, 'rate limit exceeded');
      return true;
    };
    if (url.pathname !== '/healthz') {
      if (this.deps.profile.webProxyV010 && limited()) return;
      const auth = this.authorized(req);
      if (!auth.ok) return sendError(res, 401, auth.message);
      if (!this.deps.profile.webProxyV010 && limited()) return;
    }
    // ServeMux answers a path that is not clean (`//`, `.`, `..`) with a 301 to the clean one (net/http server.go
    // cleanPath, Redirect), after the middleware.
    const clean = cleanPath(url.pathname);
    if (clean !== url.pathname) {
      const location = `${clean}${url.search}`;
      const page = req.method === 'GET' || req.method === 'HEAD' ? `<a href="${location}">Moved Permanently</a>.\n\n` : '';
      res.writeHead(301, { Location: location, ...(page ? { 'Content-Type': 'text/html; charset=utf-8' } : {}) }).end(page);
      return;
    }
    const routes: Record<string, string> = { '/v1/chat/completions': 'POST', '/v1/models': 'GET', '/sse': 'GET', '/message': 'POST', '/healthz': 'GET' };
    const method = routes[url.pathname];
    if (!method) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }).end('404 page not found\n');
      return;
    }
    if (req.method !== method && !(method === 'GET' && req.method === 'HEAD')) {
      res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', Allow: method === 'GET' ? 'GET, HEAD' : method }).end('Method Not Allowed\n');
      return;
    }
    const ctx = this.context((name) => {
      run = name;
    });
    switch (`${method} ${url.pathname}`) {
      case 'POST /v1/chat/completions':
        return chatCompletions(req, res, ctx);
      case 'GET /v1/models':
        return listModels(res, ctx);
      case 'GET /sse':
        return this.mcp.open(res);
      case 'POST /message':
        return this.mcp.message(req, res, url, ctx);
    }
  }
}

/** One proxy per serving instance, started and reconfigured by the controller. */
export class ProxyManager {
  private readonly proxies = new Map<string, WebProxy>();
  private readonly starting = new Map<string, Promise<WebProxy>>();

  constructor(private readonly deps: ProxyDeps) {}

  /** Starts the instance's proxy if needed and applies the config; returns its port. */
  async ensure(config: ProxyConfig): Promise<number> {
    const key = `${config.namespace}/${config.instance}`;
    let proxy = this.proxies.get(key) ?? (await this.starting.get(key));
    if (!proxy) {
      const starting = (async () => {
        const created = new WebProxy(config, this.deps);
        await created.listen();
        this.deps.log(`web proxy ${key}: listening on 127.0.0.1:${created.port}`);
        return created;
      })();
      this.starting.set(key, starting);
      try {
        proxy = await starting;
      } finally {
        this.starting.delete(key);
      }
      this.proxies.set(key, proxy);
    }
    proxy.configure(config);
    return proxy.port;
  }

  /** The instance's serving pod started (again). */
  podStarted(namespace: string, instance: string): void {
    this.proxies.get(`${namespace}/${instance}`)?.restarted();
  }

  port(namespace: string, instance: string): number | undefined {
    return this.proxies.get(`${namespace}/${instance}`)?.port;
  }

  async stop(namespace: string, instance: string): Promise<void> {
    const key = `${namespace}/${instance}`;
    const proxy = this.proxies.get(key);
    if (!proxy) return;
    this.proxies.delete(key);
    await proxy.close();
    this.deps.log(`web proxy ${key}: stopped`);
  }

  async stopAll(): Promise<void> {
    const all = [...this.proxies.values()];
    this.proxies.clear();
    await Promise.all(all.map((proxy) => proxy.close()));
  }
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path) || '/';
  } catch {
    return path || '/';
  }
}

/** net/http cleanPath: path.Clean (no `//`, `.`, `..`), keeping a trailing slash. */
function cleanPath(path: string): string {
  const rooted = path.startsWith('/') ? path : `/${path}`;
  const parts: string[] = [];
  for (const part of rooted.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  const cleaned = `/${parts.join('/')}`;
  return rooted.endsWith('/') && cleaned !== '/' ? `${cleaned}/` : cleaned;
}
