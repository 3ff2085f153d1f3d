import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { CliError } from '../errors.js';
import type { ResolvedKubeConfig } from './config.js';
import { maskProxyUrl, proxyFromEnvironment, type ProxyChoice } from './proxy-env.js';
import { defaultTrustedCAs } from './trust.js';
import { partialChainPool, verifyPartialChain } from './tls-verify.js';

/**
 * The one way the CLI opens a connection to the API server: plain requests, watches and port-forward's
 * WebSockets all take their http.Agent from here, so a proxy, the TLS trust and the client certificate apply to
 * each of them alike. The direct case is node's own keep-alive agent; a proxy agent (https-proxy-agent,
 * socks-proxy-agent) is imported only when a proxy applies, so a plain kubeconfig never loads one.
 */

export interface Connector {
  /** The proxy requests go through (kubeconfig `proxy-url`, else the environment), or undefined for direct. */
  readonly proxy?: ProxyChoice;
  /**
   * The agent for every request and WebSocket to this cluster; resolves at once in the direct case. With an exec
   * plugin's client certificate, an agent of its own for that certificate: Node's Agent lets its own options
   * override a request's (Agent.addRequest), so a certificate passed per request would be dropped, and a refreshed
   * one replaces the agent so that no socket made with the old one is reused.
   */
  agent(client?: ClientCertificate): Promise<http.Agent>;
  /**
   * Set for an http:// server behind an http(s) proxy: plain requests go to the proxy in absolute form, as Go's
   * transport sends them; WebSockets still tunnel with CONNECT through agent() (client-go's dialers do).
   */
  readonly forward?: ForwardRoute;
  close(): void;
}

/** A client certificate that is not the kubeconfig's (an exec plugin's). */
interface ClientCertificate {
  cert?: string;
  key?: string;
}

export interface ForwardRoute {
  transport: typeof http | typeof https;
  host: string;
  port: number;
  /** Proxy-Authorization, when the proxy URL carries credentials. */
  headers: Record<string, string>;
  agent: http.Agent;
  /** The proxy's own refusal (407) as a proxy failure; undefined for any other answer, which is the server's. */
  refusal(status: number, target: string): CliError | undefined;
  /** A socket failure on this route is the proxy's: the connection is to the proxy. */
  failure(error: Error): CliError;
}

export function createConnector(config: ResolvedKubeConfig, env: NodeJS.ProcessEnv): Connector {
  const server = new URL(config.server);
  const secure = server.protocol === 'https:';
  const proxy: ProxyChoice | undefined = config.proxyUrl
    ? { url: config.proxyUrl, source: `proxy-url of cluster "${config.clusterName}"` }
    : proxyFromEnvironment(server, env);
  const pool = secure && config.ca && !config.insecureSkipTlsVerify ? partialChainPool(config.ca) : undefined;
  const host = server.hostname.replace(/^\[|\]$/g, '');
  const tlsOptions: tls.ConnectionOptions = {
    // Without a CA in the kubeconfig, trust the OS store as kubectl does, not only Node's bundled list.
    ca: config.ca ?? (secure && !config.insecureSkipTlsVerify ? defaultTrustedCAs(env) : undefined),
    cert: config.clientCert,
    key: config.clientKey,
    // A kubeconfig CA that is an intermediate: OpenSSL's verdict is read, not enforced, and a chain that ends
    // at a certificate of the kubeconfig's CA is accepted as Go's x509 does (tls-verify.ts); nothing else changes.
    rejectUnauthorized: !config.insecureSkipTlsVerify && !pool,
    // SNI and the name checked: tls-server-name, else the server's host (SNI cannot carry an IP address).
    servername: config.tlsServerName ?? (net.isIP(host) ? undefined : host),
    // Named explicitly: over a proxy tunnel node would otherwise check the certificate against "localhost".
    checkServerIdentity: (_name, certificate) => tls.checkServerIdentity(config.tlsServerName ?? host, certificate),
  };
  if (secure) checkClientKeyPair(config, tlsOptions);
  const verify = pool ? (socket: tls.TLSSocket) => verifyPartialChain(socket, pool, config.tlsServerName ?? host) : undefined;
  const agentOptions = { keepAlive: true, maxSockets: 16 };

  const build = async (options: tls.ConnectionOptions): Promise<http.Agent> => {
    if (proxy) return proxyAgent(proxy, { secure, tlsOptions: options, verify, agentOptions, proxyTls: proxyTlsOptions(config, env) });
    if (!secure) return new http.Agent(agentOptions);
    return verify ? new VerifyingAgent(verify, { ...agentOptions, ...options, maxCachedSessions: 0 }) : new https.Agent({ ...agentOptions, ...options });
  };
  let shared: Promise<http.Agent> | undefined;
  let own: { cert: string; agent: Promise<http.Agent> } | undefined;
  const built = new Set<Promise<http.Agent>>();
  const track = (agent: Promise<http.Agent>) => (built.add(agent), agent);
  const destroy = (agent: Promise<http.Agent>) => void agent.then((a) => a.destroy(), () => undefined);
  const forward = proxy && !secure && !proxy.url.protocol.startsWith('socks') ? forwardRoute(proxy, proxyTlsOptions(config, env), agentOptions) : undefined;
  return {
    proxy,
    agent: (client) => {
      if (!client?.cert || !secure) return (shared ??= track(build(tlsOptions)));
      if (own?.cert !== client.cert) {
        if (own) destroy(own.agent);
        own = { cert: client.cert, agent: track(build({ ...tlsOptions, cert: client.cert, key: client.key })) };
      }
      return own.agent;
    },
    forward,
    close: () => {
      for (const agent of built) destroy(agent);
      forward?.agent.destroy();
    },
  };
}

function forwardRoute(proxy: ProxyChoice, proxyTls: tls.ConnectionOptions, agentOptions: http.AgentOptions): ForwardRoute {
  const { url } = proxy;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const secureProxy = url.protocol === 'https:';
  const headers: Record<string, string> = {};
  if (url.username || url.password) {
    headers['Proxy-Authorization'] = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  }
  const shown = maskProxyUrl(url);
  return {
    transport: secureProxy ? https : http,
    host,
    port: Number(url.port) || (secureProxy ? 443 : 80),
    headers,
    agent: secureProxy ? new https.Agent({ ...agentOptions, ...proxyTls, servername: proxyTls.servername ?? (net.isIP(host) ? undefined : host) }) : new http.Agent(agentOptions),
    refusal: (status, target) => (status === 407 ? proxyRefused(status, shown, proxy.source, target) : undefined),
    failure: (error) => proxyError(error, shown, proxy.source),
  };
}

/**
 * A client key that does not belong to the certificate fails deep inside OpenSSL with "key values mismatch";
 * say it as a credentials problem before any connection (kubectl: "tls: private key does not match public key").
 */
function checkClientKeyPair(config: ResolvedKubeConfig, options: tls.ConnectionOptions): void {
  if (!options.cert || !options.key) return;
  try {
    tls.createSecureContext({ cert: options.cert, key: options.key });
  } catch (error) {
    const message = (error as Error).message;
    const mismatch = /key values mismatch|does not match/i.test(message);
    throw new CliError(
      mismatch
        ? `kubeconfig user "${config.userName}": the client key does not match the client certificate (tls: private key does not match public key)`
        : `kubeconfig user "${config.userName}": the client certificate or key cannot be used: ${message}`,
      { hint: 'The kubeconfig credentials are wrong, not the cluster: fetch fresh credentials for this cluster, or point client-key at the key of this certificate.', cause: error },
    );
  }
}

/** https.Agent whose sockets are handed to a request only after the partial-chain check has passed. */
class VerifyingAgent extends https.Agent {
  constructor(
    private readonly verify: (socket: tls.TLSSocket) => Promise<void>,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  // Node's Agent accepts createConnection(options, callback) returning nothing and calling back later
  // (lib/_http_agent.js createSocket): the request is attached only then, so no byte of it (the token) is sent
  // to a server whose chain has not been checked.
  override createConnection(options: tls.ConnectionOptions, callback: (error: Error | null, socket?: Duplex) => void): undefined {
    const socket = tls.connect(options);
    this.verify(socket).then(
      () => callback(null, socket),
      (error: Error) => {
        socket.destroy();
        callback(error);
      },
    );
    return undefined;
  }
}

interface TunnelOptions {
  secure: boolean;
  tlsOptions: tls.ConnectionOptions;
  verify?: (socket: tls.TLSSocket) => Promise<void>;
  agentOptions: http.AgentOptions;
  /** For an https:// proxy: the TLS to the proxy itself. */
  proxyTls: tls.ConnectionOptions;
}

/**
 * Go's transport speaks TLS to an https:// proxy with the same tls.Config as to the server (net/http
 * transport.go dialConn -> addTLS clones TLSClientConfig), so kubectl checks the proxy against the kubeconfig's
 * CA (the OS store without one), offers the client certificate, honours insecure-skip-tls-verify, and checks
 * tls-server-name when it is set, else the proxy's host. The same here. (A proxy certificate that only a
 * partial chain would trust is refused: the proxy's handshake happens inside https-proxy-agent.)
 */
function proxyTlsOptions(config: ResolvedKubeConfig, env: NodeJS.ProcessEnv): tls.ConnectionOptions {
  return {
    ca: config.ca ?? defaultTrustedCAs(env),
    cert: config.clientCert,
    key: config.clientKey,
    rejectUnauthorized: !config.insecureSkipTlsVerify,
    ...(config.tlsServerName ? { servername: config.tlsServerName } : {}),
  };
}

/**
 * A proxy agent whose tunnel is the package's (CONNECT, or a SOCKS5 handshake) and whose TLS to the API server
 * is ours, with the kubeconfig's CA, client certificate and name. A failure before the tunnel is up is the
 * proxy's and is said to be.
 */
async function proxyAgent(proxy: ProxyChoice, options: TunnelOptions): Promise<http.Agent> {
  const shown = maskProxyUrl(proxy.url);
  const socks = proxy.url.protocol.startsWith('socks');
  type ConnectOptions = http.ClientRequestArgs & { secureEndpoint?: boolean };
  type Base = new (proxy: URL, options: http.AgentOptions) => http.Agent & { connect(req: http.ClientRequest, opts: ConnectOptions): Promise<Duplex> };
  const upgrade = async (req: http.ClientRequest, opts: ConnectOptions, connect: () => Promise<Duplex>): Promise<Duplex> => {
    let status: number | undefined;
    req.once('proxyConnect', (response: { statusCode: number }) => (status = response.statusCode));
    let tunnel: Duplex;
    try {
      tunnel = await connect();
    } catch (error) {
      throw proxyError(error as Error, shown, proxy.source);
    }
    if (status !== undefined && status !== 200) {
      tunnel.destroy();
      throw proxyRefused(status, shown, proxy.source, `${opts.host}:${opts.port}`);
    }
    if (!options.secure) return tunnel;
    const socket = tls.connect({ ...options.tlsOptions, socket: tunnel as net.Socket });
    if (options.verify) await options.verify(socket);
    return socket;
  };
  let Agent: Base;
  let url = proxy.url;
  if (socks) {
    const { SocksProxyAgent } = await import('socks-proxy-agent');
    Agent = SocksProxyAgent as unknown as Base;
    // Go's SOCKS5 dialer sends the host name for the proxy to resolve (x/net/internal/socks); socks5h:// is
    // socks-proxy-agent's name for that, plain socks5:// would resolve it here.
    url = new URL(proxy.url.href.replace(/^socks5:/, 'socks5h:'));
  } else {
    const { HttpsProxyAgent } = await import('https-proxy-agent');
    Agent = HttpsProxyAgent as unknown as Base;
  }
  // The TLS to the API server is done in `upgrade`, so the package is told the endpoint is plain.
  const Tunnel = class extends Agent {
    override async connect(req: http.ClientRequest, opts: ConnectOptions): Promise<Duplex> {
      return upgrade(req, opts, () => super.connect(req, { ...opts, secureEndpoint: false }));
    }
  };
  // https-proxy-agent hands its options to the tls.connect it makes to an https:// proxy.
  return new Tunnel(url, { ...options.agentOptions, ...(url.protocol === 'https:' ? options.proxyTls : {}) });
}

/** The tunnel could not be set up: the proxy is down, unknown, or refused the SOCKS handshake. */
function proxyError(error: Error, shown: string, source: string): CliError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const reason =
    code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'host not found' : code === 'ETIMEDOUT' ? 'timed out' : error.message;
  // socks' own errors ("Socks5 proxy rejected connection - HostUnreachable") are the proxy's report on the cluster.
  const reported = /^Socks5? proxy rejected connection/i.test(error.message);
  const tlsToProxy = /CERT|SELF_SIGNED|ISSUER|^ERR_TLS|^ERR_SSL/.test(code);
  return new CliError(
    reported
      ? `the proxy ${shown} (${source}) could not connect to the cluster: ${error.message}`
      : `cannot connect to the proxy ${shown} (${source}): ${tlsToProxy ? `TLS: ${error.message} (${code})` : reason}`,
    {
      hint: tlsToProxy
        ? "An https:// proxy's certificate is checked with the cluster's TLS settings, as kubectl does: its CA must be in the kubeconfig's certificate-authority (or the OS store when the kubeconfig has none)."
        : proxyHint(source),
      cause: error,
    },
  );
}

function proxyRefused(status: number, shown: string, source: string, target: string): CliError {
  const why =
    status === 407
      ? 'it asks for credentials (407 Proxy Authentication Required)'
      : status === 403
        ? `it does not allow connections to ${target} (403 Forbidden)`
        : status === 502 || status === 503 || status === 504
          ? `it could not reach ${target} (HTTP ${status})`
          : `it answered HTTP ${status}`;
  return new CliError(`the proxy ${shown} (${source}) refused to connect to the cluster: ${why}`, {
    hint: status === 407 ? `Put the proxy's user and password in the proxy URL (http://user:password@host:port). ${proxyHint(source)}` : proxyHint(source),
  });
}

function proxyHint(source: string): string {
  return source.startsWith('proxy-url')
    ? 'Check that the proxy is running and reachable from here, or fix or remove proxy-url in the kubeconfig cluster.'
    : `Check that the proxy is running and reachable from here, fix ${source}, or add the cluster's host to NO_PROXY to connect directly.`;
}
