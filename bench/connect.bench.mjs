// What the CLI adds beyond a proxy's own time (issue 14): `key show --reveal` through an http CONNECT proxy
// named by the kubeconfig's proxy-url, against a bare Node script making the same two requests through the same
// proxy with node:net/node:tls and nothing else. The direct pair (the plain token kubeconfig) is measured
// alongside, so the two gaps can be compared: the target is that the proxied gap stays within 20 ms of the
// direct one (the proxy agent module loads only in the proxied case).
import http from 'node:http';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A CONNECT-only proxy in this process; it counts tunnels so the bench can check that the path really was proxied. */
async function startConnectProxy() {
  let tunnels = 0;
  const sockets = new Set();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client, head) => {
    tunnels += 1;
    const [host, port] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    tunnels: () => tunnels,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(resolve);
    }),
  };
}

/**
 * @param {object} bench what run.mjs hands every benchmark: the plane, a work directory, its runners and pair().
 */
export async function benchConnect({ plane, work, kubeconfigYaml, secretName, run, pair, labelled, env }) {
  const proxy = await startConnectProxy();
  try {
    const server = new URL(plane.apiServer.httpsUrl ?? plane.url);
    const token = plane.apiServer.token;
    const proxied = join(work, 'kubeconfig-proxied');
    const withProxy = kubeconfigYaml.replace(/(\n(\s+)insecure-skip-tls-verify: true)/, `$1\n$2proxy-url: ${proxy.url}`);
    if (!withProxy.includes('proxy-url')) throw new Error('could not add proxy-url to the kubeconfig');
    writeFileSync(proxied, withProxy);
    const floor = (viaProxy) => {
      const script = join(work, `floor-connect-${viaProxy ? 'proxy' : 'direct'}.mjs`);
      // The floor through a proxy: one CONNECT tunnel, TLS over it, both GETs on that one connection.
      writeFileSync(
        script,
        `import https from 'node:https';
import http from 'node:http';
import tls from 'node:tls';
const target = ${JSON.stringify({ host: server.hostname, port: Number(server.port) })};
const proxy = ${JSON.stringify(viaProxy ? proxy.url : null)};
class Tunnel extends https.Agent {
  createConnection(options, callback) {
    const connect = http.request(proxy, { method: 'CONNECT', path: target.host + ':' + target.port });
    connect.once('connect', (_res, socket) => callback(null, tls.connect({ socket, rejectUnauthorized: false })));
    connect.once('error', callback);
    connect.end();
  }
}
const agent = proxy ? new Tunnel({ keepAlive: true }) : new https.Agent({ keepAlive: true, rejectUnauthorized: false });
const get = (p) => new Promise((resolve, reject) => https.get({ ...target, path: p, agent, rejectUnauthorized: false, headers: { Authorization: 'Bearer ${token}' } }, (r) => { let t = ''; r.on('data', (c) => (t += c)); r.on('end', () => resolve(t)); }).on('error', reject));
await get('/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances/demo');
const secret = JSON.parse(await get('/api/v1/namespaces/default/secrets/${secretName}'));
process.stdout.write(Buffer.from(secret.data['api-key'], 'base64').toString() + '\\n');
agent.destroy();
`,
      );
      return script;
    };
    const bin = join(new URL('..', import.meta.url).pathname, 'bin', 'sympozium.js');
    const keyShow = (kubeconfig) => () => run('node', [bin, 'key', 'show', 'demo', '--reveal'], { env: { ...env, KUBECONFIG: kubeconfig } });
    const direct = await pair(
      'connect, direct (token)',
      '(reference)',
      labelled('sympozium key show demo --reveal', keyShow(env.KUBECONFIG)),
      labelled('bare node:https script, same 2 GETs', () => run('node', [floor(false)])),
    );
    const before = proxy.tunnels();
    const viaProxy = await pair(
      'connect, through a proxy',
      'gap within 20 ms of direct',
      labelled('key show, proxy-url http CONNECT', keyShow(proxied)),
      labelled('bare node script, same proxy and GETs', () => run('node', [floor(true)])),
    );
    if (proxy.tunnels() === before) throw new Error('the proxied rows did not go through the proxy');
    const directGap = direct.medianA - direct.medianB;
    const proxyGap = viaProxy.medianA - viaProxy.medianB;
    console.log(`  beyond the bare Node floor: direct ${directGap.toFixed(1)} ms, through the proxy ${proxyGap.toFixed(1)} ms (the proxy path adds ${(proxyGap - directGap).toFixed(1)} ms; target <= 20)`);
    return { directOverFloorMs: directGap, proxyOverFloorMs: proxyGap, proxyPathAddsMs: proxyGap - directGap };
  } finally {
    await proxy.close();
  }
}
