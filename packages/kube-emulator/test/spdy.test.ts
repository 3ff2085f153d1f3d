// The port-forward endpoint spoken to frame by frame: a raw socket does the HTTP upgrade, then a test client built
// from the same framing helpers opens streams the way kubectl's spdystream does. The real-kubectl proof is in
// test/conformance/portforward.test.ts; these cases pin down the protocol details kubectl relies on.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { handlePortForwardUpgrade } from '../src/portforward/index.js';
import { SPDY3_DICTIONARY } from '../src/portforward/spdy-dictionary.js';
import {
  FLAG_FIN,
  FrameParser,
  FrameType,
  HeaderCompression,
  controlFrame,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  type Frame,
} from '../src/portforward/spdy-frames.js';

const u32s = (...values: number[]): Buffer => {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeUInt32BE(v, i * 4));
  return buf;
};

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error(`gave up waiting for ${what}`);
}

class TestClient {
  private readonly parser = new FrameParser();
  private readonly deflate = new HeaderCompression('deflate');
  private readonly inflate = new HeaderCompression('inflate');
  private readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {}

  static async connect(port: number, headers: Record<string, string>): Promise<{ client?: TestClient; status: number; head: string; body: string }> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`POST /api/v1/namespaces/default/pods/web-1/portforward HTTP/1.1\r\nHost: x\r\n${lines}\r\n`);
    let buffered = Buffer.alloc(0);
    return new Promise((resolve) => {
      const onData = (chunk: Buffer): void => {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.subarray(0, end).toString('latin1');
        const status = Number(head.split(' ')[1]);
        const rest = buffered.subarray(end + 4);
        if (status !== 101) {
          socket.off('data', onData);
          socket.on('data', (more: Buffer) => (buffered = Buffer.concat([buffered, more])));
          socket.on('close', () => resolve({ status, head, body: buffered.subarray(end + 4).toString('utf8') }));
          return;
        }
        socket.off('data', onData);
        const client = new TestClient(socket);
        socket.on('data', (more: Buffer) => client.receive(more));
        socket.on('close', () => {
          client.closed = true;
          client.wake();
        });
        if (rest.length) client.receive(rest);
        resolve({ client, status, head, body: '' });
      };
      socket.on('data', onData);
    });
  }

  private receive(chunk: Buffer): void {
    this.frames.push(...this.parser.push(chunk));
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Removes and returns the first received frame matching `match`, waiting for it if needed. */
  async next(match: (frame: Frame) => boolean, what: string): Promise<Frame> {
    for (;;) {
      const index = this.frames.findIndex(match);
      if (index >= 0) return this.frames.splice(index, 1)[0]!;
      if (this.closed) throw new Error(`connection closed while waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => resolve(), 5000);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async open(id: number, headers: Record<string, string>, flags = 0): Promise<Record<string, string>> {
    const block = await this.deflate.process(encodeHeaderBlock(headers));
    this.socket.write(controlFrame(FrameType.SynStream, flags, Buffer.concat([u32s(id, 0), Buffer.from([0, 0]), block])));
    const reply = await this.next((f) => f.control && f.type === FrameType.SynReply && f.payload.readUInt32BE(0) === id, `SYN_REPLY ${id}`);
    if (!reply.control) throw new Error('unreachable');
    return decodeHeaderBlock(await this.inflate.process(reply.payload.subarray(4)));
  }

  send(id: number, data: string | Buffer, fin = false): void {
    this.socket.write(dataFrame(id, fin ? FLAG_FIN : 0, Buffer.from(data)));
  }

  /** Collects DATA on a stream up to and including its FIN. */
  async readToEnd(id: number): Promise<string> {
    let text = '';
    for (;;) {
      const frame = await this.next((f) => !f.control && f.streamId === id, `DATA on ${id}`);
      if (frame.control) continue;
      text += frame.data.toString('utf8');
      if (frame.flags & FLAG_FIN) return text;
    }
  }

  close(): void {
    this.socket.destroy();
    this.deflate.close();
    this.inflate.close();
  }
}

describe('SPDY/3.1 port-forward endpoint', () => {
  let api: http.Server;
  let apiPort: number;
  let target: net.Server;
  let targetPort: number;
  const targetClosed: Promise<void>[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    // The "pod": answers each connection's first chunk with "echo:<chunk>", then closes, as an HTTP server would.
    target = net.createServer((socket) => {
      targetClosed.push(new Promise((resolve) => socket.on('close', () => resolve())));
      socket.once('data', (chunk) => socket.end(`echo:${chunk.toString('utf8')}`));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetPort = (target.address() as AddressInfo).port;
    api = http.createServer((_req, res) => res.end());
    api.on('upgrade', (req, socket, head) => {
      handlePortForwardUpgrade(req, socket, head, (port) => (port === 8080 ? { host: '127.0.0.1', port: targetPort } : undefined), {
        podUid: 'uid-1',
      });
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiPort = (api.address() as AddressInfo).port;
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    api.closeAllConnections();
    await new Promise((resolve) => api.close(resolve));
    await new Promise((resolve) => target.close(resolve));
  });

  const spdyHeaders = { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' };

  async function connect(): Promise<TestClient> {
    const { client, status, head } = await TestClient.connect(apiPort, spdyHeaders);
    expect(status, head).toBe(101);
    clients.push(client!);
    return client!;
  }

  it('builds the SPDY/3 header dictionary byte for byte (1423 bytes, zlib dictionary id e3c6a7c2)', () => {
    expect(SPDY3_DICTIONARY.length).toBe(1423);
    const compressed = zlib.deflateSync(Buffer.from('x'), { dictionary: SPDY3_DICTIONARY });
    expect(compressed.subarray(2, 6).toString('hex')).toBe('e3c6a7c2');
  });

  it('answers the upgrade with 101 and echoes the negotiated protocol', async () => {
    const { client, status, head } = await TestClient.connect(apiPort, spdyHeaders);
    clients.push(client!);
    expect(status).toBe(101);
    expect(head).toMatch(/^Upgrade: SPDY\/3\.1$/m);
    expect(head).toMatch(/^X-Stream-Protocol-Version: portforward\.k8s\.io$/m);
  });

  it('refuses an upgrade without a stream protocol, or with one it does not speak, with a Status', async () => {
    const missing = await TestClient.connect(apiPort, { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' });
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body)).toMatchObject({ kind: 'Status', code: 400, message: expect.stringContaining('X-Stream-Protocol-Version') });
    const wrong = await TestClient.connect(apiPort, { ...spdyHeaders, 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' });
    expect(wrong.status).toBe(403);
    expect(wrong.head).toMatch(/Content-Type: application\/json/);
  });

  it('bridges a data stream to the target and closes the error stream empty, twice on one connection', async () => {
    const client = await connect();
    for (const [errorId, dataId, requestId] of [
      [1, 3, '0'],
      [5, 7, '1'],
    ] as const) {
      expect(await client.open(errorId, { streamtype: 'error', port: '8080', requestid: requestId })).toEqual({});
      client.send(errorId, '', true);
      await client.open(dataId, { streamtype: 'data', port: '8080', requestid: requestId });
      client.send(dataId, `hello ${requestId}`);
      expect(await client.readToEnd(dataId)).toBe(`echo:hello ${requestId}`);
      expect(await client.readToEnd(errorId)).toBe('');
      client.send(dataId, '', true);
    }
  });

  it('gives back the flow-control window for data it receives', async () => {
    const client = await connect();
    await client.open(1, { streamtype: 'error', port: '8080', requestid: '0' });
    await client.open(3, { streamtype: 'data', port: '8080', requestid: '0' });
    client.send(3, 'twelve bytes');
    const update = await client.next((f) => f.control && f.type === FrameType.WindowUpdate, 'WINDOW_UPDATE');
    expect(update.control && [update.payload.readUInt32BE(0), update.payload.readUInt32BE(4)]).toEqual([3, 12]);
  });

  it('pairs streams without a requestid header by stream id, as for older clients', async () => {
    const client = await connect();
    await client.open(1, { streamtype: 'error', port: '8080' });
    await client.open(3, { streamtype: 'data', port: '8080' });
    client.send(3, 'old');
    expect(await client.readToEnd(3)).toBe('echo:old');
  });

  it('reports an unknown port as text on the error stream, like a kubelet, and ends both streams', async () => {
    const client = await connect();
    await client.open(1, { streamtype: 'error', port: '9999', requestid: '0' });
    await client.open(3, { streamtype: 'data', port: '9999', requestid: '0' });
    expect(await client.readToEnd(1)).toBe(
      'error forwarding port 9999 to pod web-1, uid uid-1: failed to connect to localhost:9999 inside namespace of pod "default/web-1": dial tcp 127.0.0.1:9999: connect: connection refused',
    );
    expect(await client.readToEnd(3)).toBe('');
  });

  it('echoes client PINGs', async () => {
    const client = await connect();
    client.socket.write(controlFrame(FrameType.Ping, 0, u32s(7)));
    const pong = await client.next((f) => f.control && f.type === FrameType.Ping, 'PING');
    expect(pong.control && pong.payload.readUInt32BE(0)).toBe(7);
  });

  it('resets a stream whose headers name no stream type', async () => {
    const client = await connect();
    await client.open(1, { port: '8080' });
    const reset = await client.next((f) => f.control && f.type === FrameType.RstStream, 'RST_STREAM');
    expect(reset.control && [reset.payload.readUInt32BE(0), reset.payload.readUInt32BE(4)]).toEqual([1, 1]);
  });

  it('closes the target connection when the client resets the data stream', async () => {
    const client = await connect();
    const closedBefore = targetClosed.length;
    await client.open(1, { streamtype: 'error', port: '8080', requestid: '0' });
    await client.open(3, { streamtype: 'data', port: '8080', requestid: '0' });
    await until(() => targetClosed.length > closedBefore, 'the target connection');
    client.socket.write(controlFrame(FrameType.RstStream, 0, u32s(3, 5)));
    await targetClosed[closedBefore];
  });

  it('closes the target connections when the client goes away', async () => {
    const client = await connect();
    const closedBefore = targetClosed.length;
    await client.open(1, { streamtype: 'error', port: '8080', requestid: '0' });
    await client.open(3, { streamtype: 'data', port: '8080', requestid: '0' });
    await until(() => targetClosed.length > closedBefore, 'the target connection');
    client.socket.destroy();
    await targetClosed[closedBefore];
  });

  it('refuses a WebSocket port-forward without ports, or offering only protocols it does not speak', async () => {
    const attempt = (query: string, protocols: string[]): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${apiPort}/api/v1/namespaces/default/pods/web-1/portforward${query}`, protocols);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', () => undefined);
      });
    expect(await attempt('', ['v4.channel.k8s.io'])).toBe(400);
    expect(await attempt('?ports=8080', ['v5.channel.k8s.io'])).toBe(400);
    expect(await attempt('?ports=8080', ['v5.channel.k8s.io', 'v4.channel.k8s.io'])).toBe(101);
    expect(await attempt('?ports=8080', [])).toBe(101);
  });
});
