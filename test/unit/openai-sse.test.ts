import { describe, expect, it } from 'vitest';
import { readChatStream } from '../../src/openai/stream.js';
import { EndpointError } from '../../src/openai/errors.js';
import { readServerSentEvents } from '../../src/openai/sse.js';

async function* pieces(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

const chunk = (content: string | undefined, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-demo-web-abcde', object: 'chat.completion.chunk', model: 'gpt-4.1', choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: finish }] })}\n\n`;

describe('server-sent events', () => {
  it('whatever the chunking, the same events: comments, CRLF, CR, multi-line data, a multi-byte character cut in two', async () => {
    const stream = ': hello\r\n\r\nevent: message\r\ndata: ä line one\r\ndata: line two\r\n\r\ndata: third\r\rdata: last without a blank line';
    for (const size of [1, 2, 3, 5, 64]) {
      const events = await collect(readServerSentEvents(pieces(stream, size)));
      expect(events.map((e) => [e.event, e.data]), `size ${size}`).toEqual([
        ['message', 'ä line one\nline two'],
        [undefined, 'third'],
        [undefined, 'last without a blank line'],
      ]);
    }
  });
});

describe('reading a streamed chat answer', () => {
  it("upstream's shape: one chunk, an empty-delta stop chunk, [DONE]", async () => {
    const deltas: string[] = [];
    const { completion, sawDone } = await readChatStream(pieces(chunk('the whole answer') + chunk(undefined, 'stop') + 'data: [DONE]\n\n', 7), (d) => deltas.push(d));
    expect(deltas).toEqual(['the whole answer']);
    expect(sawDone).toBe(true);
    expect(completion).toMatchObject({ id: 'chatcmpl-demo-web-abcde', model: 'gpt-4.1', choices: [{ message: { role: 'assistant', content: 'the whole answer' }, finish_reason: 'stop' }] });
  });

  it('many chunks, no [DONE], a usage chunk, and a line that is not JSON', async () => {
    const usage = `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })}\n\n`;
    const { completion, sawDone } = await readChatStream(pieces(chunk('a') + 'data: {not json\n\n' + chunk('b') + chunk('', 'stop') + usage, 3));
    expect(sawDone).toBe(false);
    expect(completion.choices[0]!.message.content).toBe('ab');
    expect(completion.usage).toEqual({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
  });

  it('an agent_error event ends the answer with an error that carries the message', async () => {
    const error = `data: ${JSON.stringify({ error: { message: 'run failed: provider said 401', type: 'agent_error' } })}\n\n`;
    const failure = await readChatStream(pieces(chunk('partial ') + error, 10)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(EndpointError);
    expect((failure as EndpointError).agentError).toBe(true);
    expect((failure as EndpointError).message).toBe('the agent failed while answering: run failed: provider said 401');
  });
});
