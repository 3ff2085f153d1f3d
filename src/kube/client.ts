import { setMaxListeners } from 'node:events';
import http from 'node:http';
import { CliError } from '../errors.js';
import { loadKubeConfig, type ResolvedKubeConfig } from './config.js';
import { createConnector, type Connector } from './connector.js';
import { identityHeaders } from './identity.js';
import { parseWatchLine, refusalError } from './responses.js';
import { dispatch } from './transport.js';
import { KubeApiError, connectionError } from './errors.js';
import { requireName } from './names.js';
import { checkRequestPath, contentTypes, fieldManager, type KubeList, type KubeObject, type RequestOptions, type ResponseOf, type WatchEvent } from './resources.js';
import { maskProxyUrl } from './proxy-env.js';
import type { ExecCredential, ExecCredentialSource } from './exec-plugin.js';

// The shapes and paths of requests live in resources.ts; importers of the client name them from here too.
export type { KubeList, KubeObject, ObjectMeta, RequestOptions, ResponseOf, WatchEvent } from './resources.js';
export { checkRequestPath, resourcePath } from './resources.js';

/**
 * The cluster client every command uses. Requests go over node:http(s) with a keep-alive agent: the simple
 * authenticated GET that most commands need must not pay for loading all of @kubernetes/client-node, which
 * is imported only for port-forward. Exec plugins and auth providers have modules of their own, loaded only for them.
 */

/**
 * The connection flags of the command line: the slice of context.ts's GlobalOptions the client reads, stated here so
 * that kube/ does not import the layers above it (GlobalOptions satisfies it by shape).
 */
interface ConnectionFlags {
  kubeconfig?: string;
  context?: string;
  /** Set only when the user passed -n; commands fall back to the kubeconfig context's namespace. */
  namespace?: string;
  requestTimeoutMs?: number;
  /** --as, --as-group (repeatable), --as-uid: impersonation as in kubectl. */
  as?: string;
  asGroups?: string[];
  asUid?: string;
}

/** Where the client says what it does under --verbose (the CLI passes its Output). */
export interface DebugLog {
  debug(message: string): void;
}

export interface KubeClientOptions {
  globals: ConnectionFlags;
  env: NodeJS.ProcessEnv;
  out?: DebugLog;
  signal?: AbortSignal;
}

export class KubeClient {
  readonly config: ResolvedKubeConfig;
  /** The namespace commands use by default: -n, else the context's, else "default". */
  readonly namespace: string;
  /** The one connection layer (proxy, TLS trust, client certificate) for every request and WebSocket. */
  readonly connector: Connector;
  private readonly secure: boolean;
  private readonly baseUrl: URL;
  private readonly out?: DebugLog;
  private readonly signal?: AbortSignal;
  private readonly requestTimeoutMs?: number;
  private extraHeaders: Record<string, string> = {};
  private credentialsReady?: Promise<void>;
  /** The exec plugin's runner, shared with detached() copies so that the plugin runs once per process. */
  private execSource?: ExecCredentialSource;

  private readonly constructedWith: ConstructorParameters<typeof KubeClient>[1];

  constructor(
    config: ResolvedKubeConfig,
    options: { env?: NodeJS.ProcessEnv; namespace?: string; out?: DebugLog; signal?: AbortSignal; requestTimeoutMs?: number; execSource?: ExecCredentialSource },
  ) {
    this.constructedWith = options;
    this.execSource = options.execSource;
    this.config = config;
    // -n is checked at the command line; the context's namespace comes from a file and is checked here,
    // before any request, so a broken kubeconfig cannot send a request into a malformed or empty namespace.
    this.namespace =
      options.namespace !== undefined
        ? requireName(options.namespace, 'label', 'namespace')
        : requireName(config.namespace, 'label', 'namespace', {
            from: `set by kubeconfig context "${config.contextName}"`,
            hint: `Fix it with \`kubectl config set-context ${config.contextName} --namespace=<namespace>\`, or pass -n.`,
          });
    this.out = options.out;
    this.signal = options.signal;
    // Every in-flight request listens on the command's signal until it ends (apply runs 16 at once, plus
    // watches): that is by design, not a leak, so lift Node's warning threshold of ten.
    if (options.signal) setMaxListeners(200, options.signal);
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.baseUrl = new URL(config.server);
    this.secure = this.baseUrl.protocol === 'https:';
    this.connector = createConnector(config, options.env ?? {});
  }

  /** Where this client points, for messages: `context "kind-dev" (https://127.0.0.1:6443)`. */
  describe(): string {
    return `context "${this.config.contextName}" (${this.config.server})`;
  }

  /**
   * The same cluster and credentials without the command's signal: for the one clean-up a command does after
   * Ctrl-C (cancelling the run it started), which the aborted signal would otherwise stop before it is sent.
   */
  detached(): KubeClient {
    return new KubeClient(this.config, { ...this.constructedWith, signal: undefined, execSource: this.execSource });
  }

  /** Frees sockets so a finished command can exit. */
  close(): void {
    this.connector.close();
  }

  /**
   * What a WebSocket to the API server needs (port-forward): the same agent and the same identity headers as
   * every other request, so a proxy, the TLS trust and the credentials (an exec plugin's included) apply to it alike.
   */
  async upgradeOptions(): Promise<{ agent: http.Agent; headers: Record<string, string | string[]> }> {
    await (this.credentialsReady ??= this.prepareCredentials());
    const exec = await this.execSource?.get();
    return { agent: await this.connector.agent(exec), headers: this.identityHeaders(exec) };
  }

  async get<T = KubeObject>(path: string, query?: RequestOptions['query']): Promise<T> {
    return (await this.request<T>({ path, query })).body;
  }

  async list<T = KubeObject>(path: string, query?: RequestOptions['query']): Promise<KubeList<T>> {
    return (await this.request<KubeList<T>>({ path, query })).body;
  }

  async create<T = KubeObject>(path: string, body: unknown, query?: RequestOptions['query']): Promise<T> {
    return (await this.request<T>({ method: 'POST', path, body, query: { fieldManager, ...query } })).body;
  }

  async replace<T = KubeObject>(path: string, body: unknown, query?: RequestOptions['query']): Promise<T> {
    return (await this.request<T>({ method: 'PUT', path, body, query: { fieldManager, ...query } })).body;
  }

  /** JSON merge patch: the only patch type custom resources accept besides JSON patch and apply. */
  async mergePatch<T = KubeObject>(path: string, patch: unknown, query?: RequestOptions['query']): Promise<T> {
    return (await this.request<T>({ method: 'PATCH', path, body: patch, contentType: contentTypes.mergePatch, query: { fieldManager, ...query } })).body;
  }

  async jsonPatch<T = KubeObject>(path: string, operations: unknown[], query?: RequestOptions['query']): Promise<T> {
    return (await this.request<T>({ method: 'PATCH', path, body: operations, contentType: contentTypes.jsonPatch, query: { fieldManager, ...query } })).body;
  }

  /** Server-side apply with field manager `sympozium`; returns the status code too (201 created, 200 otherwise). */
  async apply<T = KubeObject>(path: string, object: unknown, options: { force?: boolean; dryRun?: boolean } = {}): Promise<ResponseOf<T>> {
    return this.request<T>({
      method: 'PATCH',
      path,
      body: object,
      contentType: contentTypes.apply,
      query: { fieldManager, force: options.force || undefined, dryRun: options.dryRun ? 'All' : undefined, fieldValidation: 'Strict' },
    });
  }

  async delete<T = KubeObject>(path: string, options: { propagationPolicy?: string; dryRun?: boolean } = {}): Promise<T> {
    return (
      await this.request<T>({
        method: 'DELETE',
        path,
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: options.propagationPolicy ?? 'Background', ...(options.dryRun ? { dryRun: ['All'] } : {}) },
      })
    ).body;
  }

  /** Returns the object, or undefined when the server says 404. */
  async getOrUndefined<T = KubeObject>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (error) {
      if (error instanceof KubeApiError && error.code === 404) return undefined;
      throw error;
    }
  }

  /**
   * One request and its whole body within --request-timeout of wall-clock time (default 30 s), the exec
   * plugin's second try after a 401 included: the socket's own timeout only measures silence, so a server that
   * trickles bytes, or a retry, could make "within 30s" take minutes.
   */
  async request<T>(options: RequestOptions): Promise<ResponseOf<T>> {
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs ?? 30_000;
    // Credentials first, outside the deadline: an exec plugin may wait for the user (a device-code login, an MFA
    // prompt) far longer than the cluster may take to answer, and kubectl does not time its plugin out either.
    if (this.config.exec || this.config.authProvider) {
      await (this.credentialsReady ??= this.prepareCredentials());
      await this.execSource?.get();
    }
    if (timeoutMs <= 0) return this.requestUnbounded(options);
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    try {
      return await this.requestUnbounded({ ...options, signal: options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal });
    } catch (error) {
      if (deadline.signal.aborted && !options.signal?.aborted && !this.signal?.aborted) {
        throw new CliError(`the cluster did not answer within ${shortSeconds(timeoutMs)} (${options.method ?? 'GET'} ${options.path})`, {
          hint: `Check that ${this.config.server} is reachable, or raise --request-timeout.`,
        });
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private async requestUnbounded<T>(options: RequestOptions): Promise<ResponseOf<T>> {
    const response = await this.send(options);
    const text = await readBody(response);
    const started = (response as unknown as { startedAt: number }).startedAt;
    this.out?.debug(`${options.method ?? 'GET'} ${this.urlFor(options).pathname}${this.urlFor(options).search} -> ${response.statusCode} (${Date.now() - started}ms)`);
    const status = response.statusCode ?? 0;
    if (status >= 400) throw this.apiError(status, text, options.method ?? 'GET', options.path);
    let body: unknown = text;
    if (text && (response.headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        throw new CliError(`the cluster sent a reply that is not valid JSON (${options.method ?? 'GET'} ${options.path})`, {
          hint: `Is ${this.config.server} really a Kubernetes API server? Check --context, or run \`sympozium doctor\`.`,
        });
      }
    }
    return { status, body: body as T, headers: response.headers };
  }

  /**
   * A plain-text stream (pod logs): the response once the server has answered 2xx, for the caller to read until
   * it ends; no timeout while it flows (`kubectl logs -f` has none either), the signal stops it.
   */
  async textStream(path: string, query: RequestOptions['query'], signal?: AbortSignal): Promise<http.IncomingMessage> {
    const response = await this.send({ path, query, signal, timeoutMs: 0, accept: '*/*' });
    const status = response.statusCode ?? 0;
    if (status >= 400) throw this.apiError(status, await readBody(response), 'GET', path);
    response.setEncoding('utf8');
    return response;
  }

  /**
   * One watch stream: yields events until the server closes it or the signal aborts. Resuming after a close
   * and relisting after 410 Expired are the caller's (see watch.ts), because only it knows its own state.
   */
  async *watchStream<T = KubeObject>(path: string, query: RequestOptions['query'], signal?: AbortSignal): AsyncGenerator<WatchEvent<T>> {
    const response = await this.send({ path, query: { ...query, watch: 'true' }, signal, timeoutMs: 0 });
    const status = response.statusCode ?? 0;
    if (status >= 400) {
      throw this.apiError(status, await readBody(response), 'GET', `${path}?watch=true`);
    }
    response.setEncoding('utf8');
    let buffer = '';
    try {
      for await (const chunk of response as AsyncIterable<string>) {
        buffer += chunk;
        // Walk the lines by index and cut the buffer once per chunk: a chunk can hold thousands of events.
        let start = 0;
        let newline: number;
        while ((newline = buffer.indexOf('\n', start)) >= 0) {
          const line = buffer.slice(start, newline).trim();
          start = newline + 1;
          if (line) yield parseWatchLine<T>(this.config.server, line, path);
        }
        buffer = buffer.slice(start);
      }
    } catch (error) {
      // A dropped connection ends this stream like a server close; the caller decides whether to resume.
      if (signal?.aborted || this.signal?.aborted) return;
      if (!isConnectionReset(error)) throw error;
    } finally {
      response.destroy();
    }
  }

  private apiError(status: number, text: string, method: string, path: string): KubeApiError {
    return refusalError(this.config, this.describe(), status, text, method, path);
  }

  private urlFor(options: RequestOptions): URL {
    const url = new URL(this.baseUrl.pathname.replace(/\/$/, '') + options.path, this.baseUrl);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== false) url.searchParams.set(key, String(value));
    }
    return url;
  }

  private async send(options: RequestOptions): Promise<http.IncomingMessage> {
    checkRequestPath(options.method ?? 'GET', options.path);
    await (this.credentialsReady ??= this.prepareCredentials());
    const used = await this.execSource?.get();
    const response = await this.sendOnce(options, used);
    // Exec credentials (EKS, GKE tokens, Teleport certificates) can be revoked or expire early: on a 401 ask the
    // plugin once more and retry once, as client-go's exec authenticator does; a second 401 is the user's to fix.
    if (response.statusCode === 401 && (used || this.config.authProvider)) {
      response.resume();
      if (used) return this.sendOnce(options, await this.execSource!.refresh(used));
      this.credentialsReady = undefined;
      this.extraHeaders = {};
      await (this.credentialsReady ??= this.prepareCredentials());
      return this.sendOnce(options);
    }
    return response;
  }

  private async sendOnce(options: RequestOptions, exec?: ExecCredential): Promise<http.IncomingMessage> {
    // A plugin's client certificate gets an agent of its own (connector.ts), the rest share one; an http://
    // server behind a proxy is sent to the proxy in absolute form instead (connector.forward).
    const agent = this.connector.forward ? undefined : await this.connector.agent(exec);
    const url = this.urlFor(options);
    const headers: Record<string, string | string[]> = {
      Accept: options.accept ?? 'application/json',
      'User-Agent': 'sympozium-cli',
      ...this.identityHeaders(exec),
    };
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['Content-Type'] = options.contentType ?? contentTypes.json;
      // An explicit length rather than chunked encoding: some servers refuse a chunked DELETE body.
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    return dispatch({
      url,
      method: options.method ?? 'GET',
      headers,
      payload,
      agent,
      secure: this.secure,
      forward: this.connector.forward,
      signals: [options.signal, this.signal].filter((s): s is AbortSignal => Boolean(s)),
      timeoutMs: options.timeoutMs ?? this.requestTimeoutMs ?? 30_000,
      timedOut: (ms) =>
        new CliError(`the cluster did not answer within ${shortSeconds(ms)} (${options.method ?? 'GET'} ${options.path})`, {
          hint: `Check that ${this.config.server} is reachable, or raise --request-timeout.`,
        }),
      failed: (error) => connectionError(error, this.config, this.connector.proxy),
    });
  }

  /** Credentials and impersonation, as every request and WebSocket to the cluster carries them (identity.ts). */
  private identityHeaders(exec?: ExecCredential): Record<string, string | string[]> {
    return identityHeaders(this.config, { secure: this.secure, providerHeaders: this.extraHeaders, execToken: exec?.token });
  }

  /** Exec plugins get our runner, auth providers credentials.ts; each is loaded only for the kubeconfigs that need it. */
  private async prepareCredentials(): Promise<void> {
    // Over plain http kubectl sends no credentials, so it never runs the plugin or auth provider either.
    if (!this.secure) return;
    if (this.config.exec && !this.execSource) {
      const { ExecCredentialSource } = await import('./exec-plugin.js');
      this.execSource = new ExecCredentialSource(this.config, this.constructedWith.env ?? process.env, (message) => this.out?.debug(message));
    }
    if (!this.config.authProvider) return;
    const { credentialHeaders } = await import('./credentials.js');
    this.extraHeaders = await credentialHeaders(this.config);
  }
}

function isConnectionReset(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (error as Error)?.message === 'aborted';
}

async function readBody(response: http.IncomingMessage): Promise<string> {
  response.setEncoding('utf8');
  let text = '';
  for await (const chunk of response as AsyncIterable<string>) text += chunk;
  return text;
}

export function createKubeClient(options: KubeClientOptions): KubeClient {
  const { globals } = options;
  const config = loadKubeConfig({ kubeconfig: globals.kubeconfig, context: globals.context, as: globals.as, asGroups: globals.asGroups, asUid: globals.asUid, env: options.env });
  options.out?.debug(`using ${`context "${config.contextName}" (${config.server})`}, namespace ${options.globals.namespace ?? config.namespace}`);
  const client = new KubeClient(config, {
    env: options.env,
    namespace: options.globals.namespace,
    out: options.out,
    signal: options.signal,
    requestTimeoutMs: options.globals.requestTimeoutMs,
  });
  const proxy = client.connector.proxy;
  if (proxy) options.out?.debug(`connecting through the proxy ${maskProxyUrl(proxy.url)} (${proxy.source})`);
  return client;
}

/** 30s, 1.5s: the limit as the user wrote it. */
function shortSeconds(ms: number): string {
  return `${Number.isInteger(ms / 1000) ? ms / 1000 : (ms / 1000).toFixed(1)}s`;
}
