import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * A plain-http API server of our own for side-by-side tests with kubectl: it answers the discovery kubectl
 * needs and an empty pod list, and records the identity headers of every request, so a test can compare what
 * kubectl and the CLI sent (credentials, impersonation) rather than only whether they succeeded.
 */
interface RecordedRequest {
  path: string;
  authorization?: string;
  impersonateUser?: string;
  impersonateGroups: string[];
  impersonateUid?: string;
  extra: Record<string, string>;
}

export interface ParityServer {
  url: string;
  requests: RecordedRequest[];
  /** TCP connections accepted so far (a client that reuses its connection adds one per command). */
  connections(): number;
  close(): Promise<void>;
}

/** With `tls`, an https server presenting that certificate (chain) instead of plain http. */
export async function startParityServer(options: { tls?: { cert: string; key: string } } = {}): Promise<ParityServer> {
  const requests: RecordedRequest[] = [];
  const handler: http.RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const extra: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (name.startsWith('impersonate-extra-')) extra[name.slice('impersonate-extra-'.length)] = String(value);
    }
    const groups = req.headers['impersonate-group'];
    requests.push({
      path,
      authorization: req.headers.authorization,
      impersonateUser: req.headers['impersonate-user'] as string | undefined,
      // Node joins repeated headers with ", "; both clients' groups are compared in that form.
      impersonateGroups: groups ? String(groups).split(', ') : [],
      impersonateUid: req.headers['impersonate-uid'] as string | undefined,
      extra,
    });
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/api') return json(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (path === '/apis') return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    if (path === '/api/v1') {
      return json(200, { kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'] }] });
    }
    if (path === '/api/v1/namespaces/default/pods') return json(200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] });
    json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${path} not found` });
  };
  const server = options.tls ? https.createServer({ ...options.tls }, handler) : http.createServer(handler);
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
