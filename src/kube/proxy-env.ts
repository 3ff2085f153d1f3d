import net from 'node:net';

/**
 * Which proxy, if any, a request to the API server goes through, decided as kubectl (client-go) decides it:
 * the cluster's `proxy-url` applies to every request to that cluster (client-go's rest transport uses
 * http.ProxyURL), else the environment as golang.org/x/net/http/httpproxy reads it (http.ProxyFromEnvironment).
 * Pure functions of their inputs: nothing here opens a connection or imports a proxy agent.
 */

export interface ProxyChoice {
  url: URL;
  /** Where it came from, for messages: `proxy-url of cluster "c"` or `HTTPS_PROXY`. */
  source: string;
}

/** The schemes client-go accepts in `proxy-url` (its parseProxyURL); anything else is refused as kubectl does. */
const proxyUrlSchemes = new Set(['http:', 'https:', 'socks5:']);

/**
 * A kubeconfig `proxy-url`, checked as client-go's validateClusterInfo does; the returned message is kubectl's
 * own ("invalid 'proxy-url' … unsupported scheme …") so a user can search for it.
 */
export function parseProxyUrl(raw: string, clusterName: string): URL | { error: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { error: `invalid 'proxy-url' ${JSON.stringify(raw)} for cluster ${JSON.stringify(clusterName)}: could not parse: ${raw}` };
  }
  if (!proxyUrlSchemes.has(url.protocol)) {
    return {
      error: `invalid 'proxy-url' ${JSON.stringify(raw)} for cluster ${JSON.stringify(clusterName)}: unsupported scheme ${JSON.stringify(url.protocol.slice(0, -1))}, must be http, https, or socks5`,
    };
  }
  return url;
}

/**
 * httpproxy's getEnvAny: the first of the names that is set and not empty. Upper case first, as Go does in
 * FromEnvironment (getEnvAny("HTTPS_PROXY", "https_proxy")), so HTTPS_PROXY wins over https_proxy.
 */
function envAny(env: NodeJS.ProcessEnv, ...names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value) return { name, value };
  }
  return undefined;
}

/**
 * httpproxy's parseProxy: a value without a scheme (`proxy.corp:3128`) is read as http://. A value that does
 * not parse either way is ignored here (Go would fail the request with "invalid proxy address").
 */
function parseEnvProxy(value: string): URL | undefined {
  const attempt = (text: string) => {
    try {
      const url = new URL(text);
      // WHATWG URL accepts `proxy.corp:3128` as scheme "proxy.corp:" with no host; Go's rule is "no host: retry".
      return url.host ? url : undefined;
    } catch {
      return undefined;
    }
  };
  return attempt(value) ?? attempt(`http://${value}`);
}

/** The proxy the environment names for this server URL, or undefined when it names none or NO_PROXY excludes it. */
export function proxyFromEnvironment(server: URL, env: NodeJS.ProcessEnv): ProxyChoice | undefined {
  // Go's ProxyFunc: https uses only HTTPS_PROXY (no fallback to HTTP_PROXY), http only HTTP_PROXY.
  const chosen =
    server.protocol === 'https:' ? envAny(env, 'HTTPS_PROXY', 'https_proxy') : server.protocol === 'http:' ? envAny(env, 'HTTP_PROXY', 'http_proxy') : undefined;
  if (!chosen) return undefined;
  // Go refuses HTTP_PROXY under CGI (REQUEST_METHOD set, golang.org/s/cgihttpproxy): a request header could set it.
  if (server.protocol === 'http:' && env.REQUEST_METHOD) return undefined;
  const url = parseEnvProxy(chosen.value);
  if (!url) return undefined;
  const port = server.port || (server.protocol === 'https:' ? '443' : '80');
  if (!useProxy(hostOf(server), port, envAny(env, 'NO_PROXY', 'no_proxy')?.value ?? '')) return undefined;
  return { url, source: chosen.name };
}

/** The URL's host without IPv6 brackets, lower case. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/**
 * httpproxy's useProxy with the NO_PROXY matchers of its config.init: false for localhost and loopback IPs
 * (never proxied via the environment), for `*`, and for an entry that matches the host and, when the entry
 * names one, the port. Entries: an IP, an IP/CIDR, `host:port`, `[v6]:port`, and domains, where `foo.com`
 * matches foo.com and its subdomains, `.foo.com` and `*.foo.com` only its subdomains.
 */
export function useProxy(host: string, port: string, noProxy: string): boolean {
  host = host.trim().toLowerCase();
  if (host === '') return true;
  if (host === 'localhost') return false;
  const hostIp = net.isIP(host) ? host : undefined;
  if (hostIp && isLoopback(hostIp)) return false;
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return false;
    const cidr = parseCidr(entry);
    if (cidr) {
      if (hostIp && cidr.check(hostIp, family(hostIp))) return false;
      continue;
    }
    const split = splitHostPort(entry);
    let entryHost = split ? split.host : entry;
    const entryPort = split?.port ?? '';
    if (split && !entryHost) continue; // ":80": no host part, a malformed entry Go ignores.
    if (net.isIP(entryHost)) {
      if (hostIp && sameIp(entryHost, hostIp) && (entryPort === '' || entryPort === port)) return false;
      continue;
    }
    if (!entryHost) continue;
    if (entryHost.startsWith('*.')) entryHost = entryHost.slice(1);
    const matchHost = !entryHost.startsWith('.');
    const suffix = matchHost ? `.${entryHost}` : entryHost;
    if ((host.endsWith(suffix) || (matchHost && host === entryHost)) && (entryPort === '' || entryPort === port)) return false;
  }
  return true;
}

const family = (ip: string) => (net.isIPv6(ip) ? 'ipv6' : 'ipv4');

/** Go's ip.IsLoopback: 127.0.0.0/8 and ::1, IPv4-mapped forms included (BlockList matches those to IPv4 rules). */
function isLoopback(ip: string): boolean {
  const loopback = new net.BlockList();
  loopback.addSubnet('127.0.0.0', 8, 'ipv4');
  loopback.addAddress('::1', 'ipv6');
  return loopback.check(ip, family(ip));
}

/** Go's ip.Equal: an IPv4 address equals its IPv4-mapped IPv6 form, and `::1` equals `0:0:0:0:0:0:0:1`. */
function sameIp(a: string, b: string): boolean {
  const list = new net.BlockList();
  list.addAddress(a, family(a));
  return list.check(b, family(b));
}

/** net.ParseCIDR: `10.0.0.0/8`, `fd00::/8`; anything else is not a CIDR entry. */
function parseCidr(entry: string): net.BlockList | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(entry);
  if (!match) return undefined;
  const [, address, bits] = match as unknown as [string, string, string];
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  const prefix = Number(bits);
  if (!family || prefix > (family === 'ipv4' ? 32 : 128)) return undefined;
  const list = new net.BlockList();
  list.addSubnet(address, prefix, family);
  return list;
}

/** net.SplitHostPort for NO_PROXY entries: `host:port` or `[v6]:port`; a bare IPv6 address has no port. */
function splitHostPort(entry: string): { host: string; port: string } | undefined {
  const bracketed = /^\[([^\]]*)\]:(\d*)$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2]! };
  const colon = entry.lastIndexOf(':');
  if (colon < 0 || entry.indexOf(':') !== colon) return undefined;
  return { host: entry.slice(0, colon), port: entry.slice(colon + 1) };
}

/** A proxy URL fit for messages, as Go's URL.Redacted shows one: `http://user:***@proxy:3128`, never the password. */
export function maskProxyUrl(url: URL): string {
  const user = url.username || url.password ? `${decodeURIComponent(url.username)}${url.password ? ':***' : ''}@` : '';
  return `${url.protocol}//${user}${url.host}`;
}
