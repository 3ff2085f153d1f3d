import type { IncomingMessage, ServerResponse } from 'node:http';
import { goMarshal } from './go-json.js';

/** Small HTTP helpers shared by the OpenAI and MCP routes, writing what upstream's Go handlers write. */

/** Upstream reads bodies without a limit; dev stops at a size no real request reaches, to protect itself. */
const maxBodyBytes = 32 * 1024 * 1024;

/** writeJSON (internal/webproxy/proxy.go): json.NewEncoder(w).Encode(v), so HTML-safe and newline-terminated. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = `${goMarshal(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** writeError: {"error":{"message":"...","type":"error"}} (map keys, so sorted, as Go encodes them). */
export function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: { message, type: 'error' } });
}

export class BodyError extends Error {}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new BodyError(`request body larger than ${maxBodyBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The stream headers upstream sets (openai.go streamResponse, mcp.go handleMCPSSE), flushed at once. */
export function startEventStream(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  res.flushHeaders();
}
