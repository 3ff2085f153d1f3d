import { EndpointError } from './errors.js';
import { readServerSentEvents } from './sse.js';
import type { ChatCompletion, ChatCompletionChunk } from './types.js';

/**
 * A streamed chat answer, as OpenAI-compatible servers send it and as the upstream proxy bends it: one chunk
 * with the whole answer, an empty-delta chunk with finish_reason, [DONE] (or not), or an agent_error event.
 */

/** Reads a streamed answer: text pieces go to `onDelta` as they arrive, and the pieces make one completion. */
export async function readChatStream(
  body: AsyncIterable<Uint8Array | string>,
  onDelta?: (text: string) => void,
  debug?: (message: string) => void,
): Promise<{ completion: ChatCompletion; sawDone: boolean }> {
  let content = '';
  let id = '';
  let model: string | undefined;
  let created: number | undefined;
  let finishReason: string | null = null;
  let usage: ChatCompletion['usage'];
  let sawDone = false;
  let answerStarted = false;
  try {
    for await (const event of readServerSentEvents(body)) {
      const data = event.data.trim();
      if (data === '[DONE]') {
        sawDone = true;
        break;
      }
      if (!data) continue;
      let chunk: ChatCompletionChunk & { error?: { message?: string; type?: string } };
      try {
        chunk = JSON.parse(data);
      } catch {
        debug?.(`ignoring an event that is not JSON: ${data.slice(0, 80)}`);
        continue;
      }
      if (chunk.error || event.event === 'error') {
        const message = chunk.error?.message ?? 'the agent failed';
        throw Object.assign(
          new EndpointError(`the agent failed while answering: ${message}`, {
            agentError: true,
            serverMessage: message,
            hint: 'The stream ended with an agent_error event. See the run with `sympozium runs list` and `sympozium runs get <run>`.',
          }),
          { answerStarted, partialId: id || undefined },
        );
      }
      id ||= chunk.id ?? '';
      model ??= chunk.model;
      created ??= chunk.created;
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices ?? []) {
        const text = choice.delta?.content;
        if (text) {
          content += text;
          answerStarted = true;
          onDelta?.(text);
        }
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
    }
  } catch (error) {
    // A dropped connection after text was shown cannot be retried without showing it twice.
    if (answerStarted && !(error instanceof EndpointError)) {
      throw Object.assign(new EndpointError('the connection dropped in the middle of the answer', { cause: error, hint: 'Ask again; the answer above is incomplete.' }), {
        answerStarted,
      });
    }
    throw error;
  } finally {
    (body as { destroy?: () => void }).destroy?.();
  }
  if (!sawDone) debug?.(finishReason ? 'the stream ended without [DONE] after a finish_reason; taking the answer as complete' : 'the stream ended without [DONE] or a finish_reason');
  const completion: ChatCompletion = {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
    ...(usage ? { usage } : {}),
  };
  return { completion, sawDone };
}
