import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * The two kinds of proxy the kubeconfig and the environment can name, small and real: an http proxy (CONNECT
 * tunnels, and absolute-form requests, which Go uses for http:// servers) and a SOCKS5 proxy (no auth or
 * user/password, RFC 1928/1929). Each records what went through it, so a test can assert the path a client
 * took. Both resolve any host name to 127.0.0.1: `kube.example.test` is reachable only through them.
 */
interface ProxyRecord {
  /** `CONNECT`, `GET` (absolute-form) or `SOCKS5`. */
  method: string;
  /** host:port the client asked for. */
  target: string;
  /** The credentials it offered, decoded: `user:password`. */
  credentials?: string;
}

export interface TestProxy {
  url: string;
  port: number;
  records: ProxyRecord[];
  close(): Promise<void>;
}

const resolveHost = (host: string) => (net.isIP(host) ? host : '127.0.0.1');

function listen(server: net.Server, sockets: Set<net.Socket>): Promise<number> {
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

/**
 * An http proxy; with `credentials` ("user:password") it answers 407 to anyone who does not send them; with
 * `tls` it is an https:// proxy (TLS between the client and the proxy, then CONNECT inside it).
 */
export async function startHttpProxy(options: { credentials?: string; tls?: { cert: string; key: string } } = {}): Promise<TestProxy> {
  const records: ProxyRecord[] = [];
  const sockets = new Set<net.Socket>();
  const authorized = (header: string | undefined) => {
    const offered = header?.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : undefined;
    return { offered, ok: !options.credentials || offered === options.credentials };
  };
  const handler: http.RequestListener = (req, res) => {
    // Absolute-form: GET http://host:port/path, forwarded as is.
    const auth = authorized(req.headers['proxy-authorization']);
    const target = new URL(req.url ?? '/');
    records.push({ method: req.method ?? 'GET', target: target.host, credentials: auth.offered });
    if (!auth.ok) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const upstream = http.request(
      { host: resolveHost(target.hostname), port: target.port || 80, path: target.pathname + target.search, method: req.method, headers },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  };
  const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const auth = authorized(req.headers['proxy-authorization']);
    records.push({ method: 'CONNECT', target: req.url ?? '', credentials: auth.offered });
    if (!auth.ok) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [host, port] = splitTarget(req.url ?? '');
    const upstream = net.connect(Number(port), resolveHost(host), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
    client.on('error', () => upstream.destroy());
  });
  const port = await listen(server, sockets);
  return { url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`, port, records, close: closer(server, sockets) };
}

function splitTarget(target: string): [string, string] {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
  return match ? [match[1]!, match[2]!] : [target, '443'];
}

/** A SOCKS5 proxy; with `credentials` it requires user/password authentication. */
export async function startSocksProxy(options: { credentials?: string } = {}): Promise<TestProxy> {
  const records: ProxyRecord[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    client.on('error', () => client.destroy());
    let buffer = Buffer.alloc(0);
    let stage: 'greeting' | 'auth' | 'request' = 'greeting';
    let credentials: string | undefined;
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (stage === 'greeting') {
        if (buffer.length < 2 || buffer.length < 2 + buffer[1]!) return;
        const methods = [...buffer.subarray(2, 2 + buffer[1]!)];
        buffer = buffer.subarray(2 + buffer[1]!);
        const method = options.credentials ? 0x02 : 0x00;
        if (!methods.includes(method)) return void client.end(Buffer.from([5, 0xff]));
        client.write(Buffer.from([5, method]));
        stage = method === 0x02 ? 'auth' : 'request';
      }
      if (stage === 'auth') {
        if (buffer.length < 2) return;
        const userLength = buffer[1]!;
        if (buffer.length < 3 + userLength) return;
        const passwordLength = buffer[2 + userLength]!;
        if (buffer.length < 3 + userLength + passwordLength) return;
        credentials = `${buffer.subarray(2, 2 + userLength)}:${buffer.subarray(3 + userLength, 3 + userLength + passwordLength)}`;
        buffer = buffer.subarray(3 + userLength + passwordLength);
        const ok = credentials === options.credentials;
        client.write(Buffer.from([1, ok ? 0 : 1]));
        if (!ok) return void client.end();
        stage = 'request';
      }
      if (stage === 'request') {
        if (buffer.length < 5) return;
        const type = buffer[3]!;
        const addressLength = type === 1 ? 4 : type === 4 ? 16 : 1 + buffer[4]!;
        if (buffer.length < 4 + addressLength + 2) return;
        const address = buffer.subarray(4, 4 + addressLength);
        const host = type === 1 ? [...address].join('.') : type === 4 ? address.toString('hex').match(/.{4}/g)!.join(':') : address.subarray(1).toString('utf8');
        const port = buffer.readUInt16BE(4 + addressLength);
        const rest = buffer.subarray(4 + addressLength + 2);
        client.off('data', onData);
        records.push({ method: 'SOCKS5', target: `${host}:${port}`, credentials });
        const upstream = net.connect(port, resolveHost(host), () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
          upstream.write(rest);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        // Reply 5: connection refused, as a real SOCKS server reports an unreachable target.
        upstream.on('error', () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])));
        client.on('close', () => upstream.destroy());
      }
    };
    client.on('data', onData);
  });
  const port = await listen(server, sockets);
  return { url: `socks5://127.0.0.1:${port}`, port, records, close: closer(server, sockets) };
}
