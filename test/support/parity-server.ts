import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

/**
 * An API server of our own for side-by-side tests with kubectl: it answers the discovery kubectl needs and an
 * empty pod list, and records the identity of every request (credentials, the verified client certificate,
 * impersonation), so a test can compare what kubectl and the CLI sent rather than only whether they succeeded.
 * Plain http by default; with `tls` it is https, asks for a client certificate (verified against `tls.ca`) and,
 * with `acceptTokens`, answers 401 to a request that has neither an accepted token nor a verified certificate.
 */
interface RecordedRequest {
  path: string;
  authorization?: string;
  /** The subject CN of a client certificate the server verified. */
  clientCert?: string;
  impersonateUser?: string;
  impersonateGroups: string[];
  impersonateUid?: string;
  extra: Record<string, string>;
  /** The status the server answered, 401 included. */
  status?: number;
  /** Who sent it (kubectl/… or sympozium-cli), so two clients can run at once. */
  userAgent?: string;
}

export interface ParityServer {
  url: string;
  requests: RecordedRequest[];
  /** TCP connections accepted so far (a client that reuses its connection adds one per command). */
  connections(): number;
  close(): Promise<void>;
}

export interface ParityServerOptions {
  /** An https server presenting this certificate (chain) instead of plain http; with `ca`, client certificates it signed are verified. */
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer };
  /** Bearer tokens the server accepts; others, and requests without a verified certificate, get 401. */
  acceptTokens?: string[];
}

export async function startParityServer(options: ParityServerOptions = {}): Promise<ParityServer> {
  const requests: RecordedRequest[] = [];
  const handler: http.RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const extra: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (name.startsWith('impersonate-extra-')) extra[name.slice('impersonate-extra-'.length)] = String(value);
    }
    const groups = req.headers['impersonate-group'];
    const socket = req.socket as Partial<TLSSocket>;
    const clientCert = socket.authorized ? (socket.getPeerCertificate?.().subject?.CN as string | undefined) : undefined;
    const recorded: RecordedRequest = {
      path,
      authorization: req.headers.authorization,
      clientCert,
      impersonateUser: req.headers['impersonate-user'] as string | undefined,
      // Node joins repeated headers with ", "; both clients' groups are compared in that form.
      impersonateGroups: groups ? String(groups).split(', ') : [],
      impersonateUid: req.headers['impersonate-uid'] as string | undefined,
      extra,
      userAgent: req.headers['user-agent'],
    };
    requests.push(recorded);
    const json = (status: number, body: unknown) => {
      recorded.status = status;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const token = req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice(7) : undefined;
    if (options.acceptTokens && !clientCert && !(token && options.acceptTokens.includes(token))) {
      return json(401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401, message: 'Unauthorized' });
    }
    if (path === '/api') return json(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (path === '/apis') return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    if (path === '/api/v1') {
      return json(200, { kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'] }] });
    }
    if (path === '/api/v1/namespaces/default/pods') return json(200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] });
    json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${path} not found` });
  };
  const server = options.tls
    ? https.createServer({ ...options.tls, ...(options.tls.ca ? { requestCert: true, rejectUnauthorized: false } : {}) }, handler)
    : http.createServer(handler);
  let connections = 0;
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    connections: () => connections,
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
