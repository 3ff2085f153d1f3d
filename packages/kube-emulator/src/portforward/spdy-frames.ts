/**
 * SPDY/3.1 wire format: frame layout, header blocks and their zlib compression. A control frame is
 * `[1][version 15][type 16][flags 8][length 24][payload]`, a data frame `[0][stream id 31][flags 8][length 24][data]`.
 * Header blocks are compressed with the SPDY/3 dictionary, one persistent zlib context per direction, each block
 * flushed with Z_SYNC_FLUSH, so every block a peer sends must be inflated in order even when it is ignored.
 */
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './spdy-dictionary.js';

const SPDY_VERSION = 3;

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

export function u32s(...values: number[]): Buffer {
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
