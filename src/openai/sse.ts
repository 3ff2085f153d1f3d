import { createParser, type EventSourceMessage } from 'eventsource-parser';

/**
 * Server-sent events from a byte stream. eventsource-parser does the parsing the spec asks for (multi-line
 * `data:`, comments, CRLF or CR line ends, a chunk boundary anywhere, even inside a UTF-8 character, which
 * the streaming TextDecoder takes care of); this only turns its callbacks into an async iterator.
 */
export async function* readServerSentEvents(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<EventSourceMessage> {
  const queue: EventSourceMessage[] = [];
  // An event larger than this is not a chat chunk; stop rather than buffer without bound.
  const parser = createParser({ onEvent: (event) => queue.push(event), maxBufferSize: 16 * 1024 * 1024 });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    while (queue.length > 0) yield queue.shift()!;
  }
  const rest = decoder.decode();
  if (rest) parser.feed(rest);
  // The spec drops an event cut off by the end of the stream; a proxy that forgets the final blank line
  // still meant it, so end the last line and the event ourselves.
  parser.feed('\n\n');
  while (queue.length > 0) yield queue.shift()!;
}
