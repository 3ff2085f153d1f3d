/**
 * The server side of a SPDY/3.1 session, as far as Kubernetes streaming (kubectl port-forward, built on
 * moby/spdystream) uses it: the client opens every stream with SYN_STREAM and the server answers SYN_REPLY; DATA
 * flows both ways and ends with FIN; RST_STREAM aborts; PING is echoed; a client GOAWAY ends the session once its
 * streams are done. Framing lives in spdy-frames.ts.
 *
 * npm's spdy-transport cannot be used: it insists on HTTP pseudo-headers that Kubernetes streams never carry.
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import {
  FLAG_FIN,
  FrameParser,
  FrameType,
  HeaderCompression,
  RstStatus,
  controlFrame,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  u32s,
  type Frame,
} from './spdy-frames.js';

/** The largest DATA payload we send in one frame; the format allows 16 MiB, peers are happier with less. */
const MAX_DATA_FRAME = 32 * 1024;

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
    // Data is pushed as frames arrive. The client's window is given back on arrival (see WINDOW_UPDATE in the
    // session), so nothing here throttles it; port-forward traffic is small enough for that to be fine.
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
