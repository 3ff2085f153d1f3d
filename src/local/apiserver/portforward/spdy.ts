/**
 * The server side of SPDY/3.1 framing, as far as Kubernetes streaming (kubectl port-forward, built on
 * moby/spdystream) uses it: the client opens every stream with SYN_STREAM and the server answers SYN_REPLY; DATA
 * flows both ways and ends with FIN; RST_STREAM aborts; PING is echoed; GOAWAY ends the session. Header blocks are
 * zlib-compressed with the SPDY/3 dictionary, one persistent context per direction, flushed with Z_SYNC_FLUSH, so
 * every header block the client sends must be inflated in order even when it is ignored.
 *
 * npm's spdy-transport cannot be used: it insists on HTTP pseudo-headers that Kubernetes streams never carry.
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './spdy-dictionary.js';

export const SPDY_VERSION = 3;

export const FrameType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;

export const RstStatus = {
  ProtocolError: 1,
  InvalidStream: 2,
  RefusedStream: 3,
  Cancel: 5,
  InternalError: 6,
} as const;

/** The largest DATA payload we send in one frame; the format allows 16 MiB, peers are happier with less. */
const MAX_DATA_FRAME = 32 * 1024;

export type Frame =
  | { control: false; streamId: number; flags: number; data: Buffer }
  | { control: true; type: number; flags: number; payload: Buffer };

/** Splits a byte stream into SPDY frames; feed it chunks, it returns the frames completed so far. */
export class FrameParser {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.pending.length >= 8) {
      const length = this.pending.readUIntBE(5, 3);
      if (this.pending.length < 8 + length) break;
      const flags = this.pending[4]!;
      const body = this.pending.subarray(8, 8 + length);
      if (this.pending[0]! & 0x80) {
        const version = this.pending.readUInt16BE(0) & 0x7fff;
        if (version !== SPDY_VERSION) throw new Error(`unsupported SPDY version ${version}`);
        frames.push({ control: true, type: this.pending.readUInt16BE(2), flags, payload: body });
      } else {
        frames.push({ control: false, streamId: this.pending.readUInt32BE(0) & 0x7fffffff, flags, data: body });
      }
      this.pending = this.pending.subarray(8 + length);
    }
    return frames;
  }
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  header.writeUInt16BE(type, 2);
  header.writeUInt32BE(payload.length, 4);
  header[4] = flags;
  return Buffer.concat([header, payload]);
}

export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(streamId & 0x7fffffff, 0);
  header.writeUInt32BE(data.length, 4);
  header[4] = flags;
  return Buffer.concat([header, data]);
}

function u32s(...values: number[]): Buffer {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => buf.writeUInt32BE(value >>> 0, i * 4));
  return buf;
}

/** Uncompressed header block: u32 count, then u32-length-prefixed name/value pairs; repeated values are NUL-joined. */
export function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [u32s(Object.keys(headers).length)];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(value, 'utf8');
    parts.push(u32s(n.length), n, u32s(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  let offset = 0;
  const take = (): Buffer => {
    if (offset + 4 > block.length) throw new Error('truncated SPDY header block');
    const length = block.readUInt32BE(offset);
    offset += 4;
    if (offset + length > block.length) throw new Error('truncated SPDY header block');
    const bytes = block.subarray(offset, offset + length);
    offset += length;
    return bytes;
  };
  if (block.length < 4) throw new Error('truncated SPDY header block');
  const count = block.readUInt32BE(0);
  offset = 4;
  for (let i = 0; i < count; i++) {
    const name = take().toString('utf8').toLowerCase();
    const value = take().toString('utf8');
    headers[name] = name in headers ? `${headers[name]}\0${value}` : value;
  }
  return headers;
}

/**
 * A persistent zlib context (one per direction). Each block is written with Z_SYNC_FLUSH, and the write callback
 * runs only after its output has been pushed, so reading the buffered output there yields exactly that block.
 */
export class HeaderCompression {
  private readonly stream: zlib.Inflate | zlib.Deflate;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(direction: 'inflate' | 'deflate') {
    // zlib passes these options on to its Transform; the large high-water mark keeps a big header block from
    // stalling the write callback, which Transform withholds while unread output exceeds the mark.
    const options = {
      dictionary: SPDY3_DICTIONARY,
      flush: zlib.constants.Z_SYNC_FLUSH,
      readableHighWaterMark: 16 * 1024 * 1024,
    } as zlib.ZlibOptions;
    this.stream = direction === 'inflate' ? zlib.createInflate(options) : zlib.createDeflate(options);
    this.stream.on('error', () => {
      // Reported to the caller of process(); the context is unusable afterwards and the session is torn down.
    });
  }

  process(input: Buffer): Promise<Buffer> {
    const run = (): Promise<Buffer> =>
      new Promise((resolve, reject) => {
        this.stream.write(input, (error) => {
          if (error) return reject(error);
          const chunks: Buffer[] = [];
          for (let chunk = this.stream.read() as Buffer | null; chunk; chunk = this.stream.read() as Buffer | null) {
            chunks.push(chunk);
          }
          resolve(Buffer.concat(chunks));
        });
      });
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.stream.destroy();
  }
}

/** One SPDY stream opened by the client. Readable: the client's DATA; writable: our DATA, ended with FIN. */
export class SpdyStream extends Duplex {
  remoteFinished = false;
  localFinished = false;
  private reset = false;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: Record<string, string>,
    private readonly replied: Promise<void>,
  ) {
    super({ allowHalfOpen: true });
  }

  override _read(): void {
    // Data is pushed as frames arrive; SPDY flow control is left to WINDOW_UPDATE.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.replied
      .then(async () => {
        for (let offset = 0; offset < chunk.length; offset += MAX_DATA_FRAME) {
          await this.session.send(dataFrame(this.id, 0, chunk.subarray(offset, offset + MAX_DATA_FRAME)));
        }
      })
      .then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.replied
      .then(() => this.session.send(dataFrame(this.id, FLAG_FIN, Buffer.alloc(0))))
      .then(() => {
        this.localFinished = true;
        this.session.maybeForget(this);
        callback();
      }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.reset && !(this.localFinished && this.remoteFinished)) {
      this.reset = true;
      this.session.sendNow(controlFrame(FrameType.RstStream, 0, u32s(this.id, RstStatus.Cancel)));
    }
    this.session.forget(this);
    callback(error);
  }

  /** Called by the session for the client's RST_STREAM: no reply, just stop both directions. */
  remoteReset(): void {
    this.reset = true;
    this.remoteFinished = true;
    this.emit('reset');
    this.destroy();
  }

  /** Answers this stream with RST_STREAM, e.g. when its headers make no sense. */
  refuse(status: number = RstStatus.ProtocolError): void {
    if (this.reset) return;
    this.reset = true;
    this.session.sendNow(controlFrame(FrameType.RstStream, 0, u32s(this.id, status)));
    this.destroy();
  }
}

/**
 * A server-side SPDY/3.1 session over any byte duplex (a TCP socket after the HTTP 101, or a WebSocket tunnel).
 * Emits 'stream' (SpdyStream) for every SYN_STREAM, after its SYN_REPLY has been queued, and 'close' once.
 */
export class SpdySession extends EventEmitter {
  private readonly parser = new FrameParser();
  private readonly inflater = new HeaderCompression('inflate');
  private readonly deflater = new HeaderCompression('deflate');
  private readonly streams = new Map<number, SpdyStream>();
  private incoming: Promise<void> = Promise.resolve();
  private lastStreamId = 0;
  /** Set by the client's GOAWAY: no new streams; the session ends when the open ones have. */
  private goneAway = false;
  private closed = false;

  constructor(private readonly transport: Duplex) {
    super();
    transport.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.parser.push(chunk);
      } catch (error) {
        this.fail(error as Error);
        return;
      }
      for (const frame of frames) {
        // Frames are handled strictly in order: header blocks share one zlib context, and DATA must not overtake
        // the SYN_STREAM that opened its stream.
        this.incoming = this.incoming.then(() => this.handle(frame)).catch((error: Error) => this.fail(error));
      }
    });
    transport.on('end', () => this.close());
    transport.on('close', () => this.close());
    transport.on('error', () => this.close());
  }

  /** Writes a frame, resolving once the transport has taken it (back-pressure for stream writes). */
  send(frame: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('SPDY session closed'));
    return new Promise((resolve, reject) => {
      this.transport.write(frame, (error) => (error ? reject(error) : resolve()));
    });
  }

  sendNow(frame: Buffer): void {
    if (!this.closed && this.transport.writable) this.transport.write(frame);
  }

  forget(stream: SpdyStream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
    this.maybeCloseAfterGoAway();
  }

  maybeForget(stream: SpdyStream): void {
    if (stream.localFinished && stream.remoteFinished) this.forget(stream);
  }

  /** Ends the session politely: GOAWAY with the last stream we accepted, then close the transport. */
  goAway(): void {
    if (this.closed) return;
    this.sendNow(controlFrame(FrameType.GoAway, 0, u32s(this.lastStreamId, 0)));
    this.transport.end();
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams.values()) stream.destroy();
    this.streams.clear();
    this.inflater.close();
    this.deflater.close();
    if (!this.transport.destroyed) this.transport.destroy();
    this.emit('close');
  }

  private fail(error: Error): void {
    this.emit('protocolError', error);
    this.close();
  }

  private maybeCloseAfterGoAway(): void {
    if (this.goneAway && this.streams.size === 0) this.close();
  }

  private async handle(frame: Frame): Promise<void> {
    if (this.closed) return;
    if (!frame.control) {
      const stream = this.streams.get(frame.streamId);
      if (!stream || stream.remoteFinished) return;
      if (frame.data.length > 0) {
        stream.push(frame.data);
        // Give the window back at once: the data is buffered in the stream, and the peer may respect the window.
        this.sendNow(controlFrame(FrameType.WindowUpdate, 0, u32s(frame.streamId, frame.data.length)));
      }
      if (frame.flags & FLAG_FIN) {
        stream.remoteFinished = true;
        stream.push(null);
        this.maybeForget(stream);
      }
      return;
    }
    const { type, flags, payload } = frame;
    switch (type) {
      case FrameType.SynStream: {
        const streamId = payload.readUInt32BE(0) & 0x7fffffff;
        const headers = decodeHeaderBlock(await this.inflater.process(payload.subarray(10)));
        if (this.goneAway || streamId <= this.lastStreamId || streamId % 2 === 0) {
          this.sendNow(controlFrame(FrameType.RstStream, 0, u32s(streamId, RstStatus.ProtocolError)));
          return;
        }
        this.lastStreamId = streamId;
        const replied = this.deflater
          .process(encodeHeaderBlock({}))
          .then((block) => this.send(controlFrame(FrameType.SynReply, 0, Buffer.concat([u32s(streamId), block]))));
        replied.catch(() => undefined);
        const stream = new SpdyStream(this, streamId, headers, replied);
        stream.on('error', () => undefined);
        this.streams.set(streamId, stream);
        if (flags & FLAG_FIN) {
          stream.remoteFinished = true;
          stream.push(null);
        }
        this.emit('stream', stream);
        return;
      }
      case FrameType.Headers:
        // Never sent by Kubernetes clients, but the block must still pass through the shared zlib context.
        await this.inflater.process(payload.subarray(4));
        return;
      case FrameType.RstStream: {
        const stream = this.streams.get(payload.readUInt32BE(0) & 0x7fffffff);
        stream?.remoteReset();
        return;
      }
      case FrameType.Ping:
        // Client pings carry odd ids and are echoed; an even id would be the answer to a ping of ours.
        if (payload.readUInt32BE(0) % 2 === 1) this.sendNow(controlFrame(FrameType.Ping, 0, payload.subarray(0, 4)));
        return;
      case FrameType.GoAway:
        this.goneAway = true;
        this.maybeCloseAfterGoAway();
        return;
      default:
        // SETTINGS and WINDOW_UPDATE: nothing to do; we neither limit streams nor throttle our DATA.
        return;
    }
  }
}
