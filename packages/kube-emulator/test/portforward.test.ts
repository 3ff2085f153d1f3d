/**
 * Checklist §7 P1.26 and P1.36: port-forward through the emulator with the real kubectl v1.32 (WebSocket-tunnelled
 * SPDY by default, plain SPDY with KUBECTL_PORT_FORWARD_WEBSOCKETS=false) and with client-node's PortForward
 * (WebSocket v4.channel.k8s.io). The "pod" is a tiny HTTP server registered as the pod's port 8080.
 */
import * as k8s from '@kubernetes/client-node';
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HAS_KUBECTL, api, eventually, startEmulator, type Emulator } from './helpers.js';

const POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', labels: { app: 'web' } },
  spec: { containers: [{ name: 'web', image: 'example/web', ports: [{ name: 'http', containerPort: 8080 }] }] },
};
const PENDING_POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'starting', labels: { app: 'other' } },
  spec: { containers: [{ name: 'web', image: 'example/web' }] },
};
const SERVICE = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web' },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 81, targetPort: 'http' }] },
};

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** One GET on a fresh TCP connection, so every request is a new forwarded connection. */
function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
  });
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

describe('port-forward', () => {
  let emu: Emulator;
  let pod: http.Server;
  let podUid: string;
  const kubectls: ChildProcess[] = [];

  beforeAll(async () => {
    pod = http.createServer((req, res) => {
      res.setHeader('Content-Type', 'text/plain');
      res.end(`hello from web-1 ${req.url}`);
    });
    await new Promise<void>((resolve) => pod.listen(0, '127.0.0.1', resolve));
    emu = await startEmulator();
    const created = await api(emu.server, 'POST', '/api/v1/namespaces/default/pods', POD);
    expect(created.status, created.text).toBe(201);
    podUid = created.json.metadata.uid;
    const running = await api(emu.server, 'PATCH', '/api/v1/namespaces/default/pods/web-1/status', { status: { phase: 'Running' } }, {
      'Content-Type': 'application/merge-patch+json',
    });
    expect(running.status, running.text).toBe(200);
    expect((await api(emu.server, 'POST', '/api/v1/namespaces/default/pods', PENDING_POD)).status).toBe(201);
    await api(emu.server, 'PATCH', '/api/v1/namespaces/default/pods/starting/status', { status: { phase: 'Pending' } }, {
      'Content-Type': 'application/merge-patch+json',
    });
    expect((await api(emu.server, 'POST', '/api/v1/namespaces/default/services', SERVICE)).status).toBe(201);
    emu.server.registerPortForward('default', 'web-1', 8080, { host: '127.0.0.1', port: (pod.address() as AddressInfo).port });
  });

  afterEach(() => {
    for (const child of kubectls.splice(0)) child.kill('SIGKILL');
  });

  afterAll(async () => {
    await emu?.close();
    await new Promise((resolve) => pod?.close(resolve));
  });

  /** Starts `kubectl port-forward` and waits for it to listen on the local port. */
  async function portForward(args: string[], env: NodeJS.ProcessEnv = {}) {
    const run = emu.spawnKubectl(['port-forward', ...args], { env });
    kubectls.push(run.child);
    await eventually(() => run.output().includes('Forwarding from 127.0.0.1:') || run.child.exitCode !== null, 15_000, 'kubectl to listen');
    return run;
  }

  const variants = [
    { name: 'WebSocket-tunnelled SPDY (default)', env: {}, upgrade: 'GET' },
    { name: 'plain SPDY (KUBECTL_PORT_FORWARD_WEBSOCKETS=false)', env: { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }, upgrade: 'POST' },
  ];
  const targets = [
    { name: 'pod/web-1', resource: 'pod/web-1', remote: 8080 },
    { name: 'svc/web (port 81 -> named targetPort http -> 8080)', resource: 'svc/web', remote: 81 },
  ];

  for (const variant of variants) {
    for (const target of targets) {
      it.skipIf(!HAS_KUBECTL)(`kubectl port-forward ${target.name} over ${variant.name} carries two sequential connections`, async () => {
        const local = await freePort();
        const logStart = emu.server.requestLog.length;
        const run = await portForward([target.resource, `${local}:${target.remote}`], variant.env);
        expect(run.output()).toContain(`Forwarding from 127.0.0.1:${local} -> 8080`);

        expect(await httpGet(local, '/first')).toEqual({ status: 200, body: 'hello from web-1 /first' });
        expect(await httpGet(local, '/second')).toEqual({ status: 200, body: 'hello from web-1 /second' });
        await eventually(() => count(run.output(), `Handling connection for ${local}`) === 2, 5_000, 'two "Handling connection" lines');
        expect(run.child.exitCode).toBeNull();

        const upgrades = emu.server.requestLog.slice(logStart).filter((entry) => entry.path.endsWith('/pods/web-1/portforward'));
        expect(upgrades.map((entry) => `${entry.method} ${entry.status}`)).toEqual([`${variant.upgrade} 101`]);
      });
    }
  }

  it.skipIf(!HAS_KUBECTL)('kubectl port-forward to a pod that is not Running fails with rc 1', async () => {
    const result = await emu.kubectl(['port-forward', 'pod/starting', `${await freePort()}:8080`]);
    expect(result.rc).toBe(1);
    expect(result.out).toContain('unable to forward port because pod is not running. Current status=Pending');
  });

  it.skipIf(!HAS_KUBECTL)('a port nothing listens on reports the kubelet-style error and kubectl exits 1', async () => {
    const local = await freePort();
    const run = await portForward(['pod/web-1', `${local}:9999`]);
    await expect(httpGet(local, '/')).rejects.toThrow();
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain(
      `an error occurred forwarding ${local} -> 9999: error forwarding port 9999 to pod web-1, uid ${podUid}: failed to connect to localhost:9999`,
    );
    expect(run.output()).toContain('connect: connection refused');
    expect(run.output()).toContain('error: lost connection to pod');
  });

  describe('client-node PortForward (WebSocket v4.channel.k8s.io)', () => {
    let forwarder: net.Server;
    const errors: string[] = [];

    afterEach(async () => {
      errors.length = 0;
      await new Promise((resolve) => (forwarder ? forwarder.close(resolve) : resolve(undefined)));
    });

    /** The usual client-node recipe: a local server whose every connection becomes one port-forward WebSocket. */
    async function listenWithClientNode(remotePort: number): Promise<number> {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(emu.kubeconfig);
      const portForward = new k8s.PortForward(kc);
      forwarder = net.createServer((socket) => {
        const errorStream = new PassThrough();
        errorStream.on('data', (chunk: Buffer) => errors.push(chunk.toString('utf8')));
        portForward
          .portForward('default', 'web-1', [remotePort], socket, errorStream, socket)
          .then((ws) => {
            const webSocket = ws as unknown as { on(event: 'close', listener: () => void): void };
            webSocket.on('close', () => socket.end());
          })
          .catch(() => socket.destroy());
      });
      await new Promise<void>((resolve) => forwarder.listen(0, '127.0.0.1', resolve));
      return (forwarder.address() as AddressInfo).port;
    }

    it('bridges two sequential connections to the pod', async () => {
      const logStart = emu.server.requestLog.length;
      const local = await listenWithClientNode(8080);
      expect(await httpGet(local, '/a')).toEqual({ status: 200, body: 'hello from web-1 /a' });
      expect(await httpGet(local, '/b')).toEqual({ status: 200, body: 'hello from web-1 /b' });
      expect(errors).toEqual([]);
      const upgrades = emu.server.requestLog.slice(logStart).filter((entry) => entry.path.endsWith('/portforward'));
      expect(upgrades.map((entry) => `${entry.method} ${entry.query} ${entry.status}`)).toEqual([
        'GET ports=8080 101',
        'GET ports=8080 101',
      ]);
    });

    it('delivers the error for a port nothing listens on through the error channel', async () => {
      const local = await listenWithClientNode(9999);
      await expect(httpGet(local, '/')).rejects.toThrow();
      await eventually(() => errors.join('').includes('connection refused'), 5_000, 'the error channel');
      expect(errors.join('')).toContain(`error forwarding port 9999 to pod web-1, uid ${podUid}`);
    });
  });
});
