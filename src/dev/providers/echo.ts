import { estimateTokens, type AgentAnswer, type AgentProvider, type AgentRequest } from './types.js';

/**
 * The offline model of the local control plane: deterministic, free, and honest about what it is. Its answer
 * names itself and repeats the task, in several chunks with a pause between them, so streaming is visible.
 *
 * Test hooks, for exercising failure paths without a real model (documented in the README of `sympozium dev`):
 * a task containing `[fail]` fails the run with a provider-style error, a task containing `[hang]` never
 * answers (until the run's timeout or deletion aborts it), and a task containing `[silent]` succeeds with no
 * text at all (the run Succeeded with an empty result, which upstream's proxy answers as "(no response)").
 */
export const echoPrefix = 'This is the local echo model of `sympozium dev` (no LLM was called). You asked:';
const failMarker = '[fail]';
export const hangMarker = '[hang]';
const silentMarker = '[silent]';

export class EchoProvider implements AgentProvider {
  readonly name = 'echo';

  constructor(private readonly chunkDelayMs: number) {}

  async run(request: AgentRequest, onChunk: (text: string) => void): Promise<AgentAnswer> {
    const started = Date.now();
    if (request.task.includes(hangMarker)) {
      await new Promise<void>((resolve) => request.signal.addEventListener('abort', () => resolve(), { once: true }));
      throw abortError(request.signal);
    }
    if (request.task.includes(failMarker)) {
      await this.pause(request.signal);
      throw new Error(`echo model: failing on purpose because the task contains ${failMarker}`);
    }
    const text = request.task.includes(silentMarker) ? '' : `${echoPrefix} ${request.task}`;
    for (const chunk of splitIntoChunks(text)) {
      await this.pause(request.signal);
      if (request.signal.aborted) throw abortError(request.signal);
      onChunk(chunk);
    }
    const inputTokens = estimateTokens(request.task) + estimateTokens(request.systemPrompt ?? '');
    const outputTokens = estimateTokens(text);
    return {
      text,
      usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, toolCalls: 0, durationMs: Date.now() - started },
    };
  }

  private pause(signal: AbortSignal): Promise<void> {
    if (this.chunkDelayMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.chunkDelayMs);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
}

/** Splits after every few words, keeping the spaces, so the chunks concatenate back to the text exactly. */
export function splitIntoChunks(text: string, wordsPerChunk = 4): string[] {
  const words = text.match(/\S+\s*/g) ?? [text];
  const chunks: string[] = [];
  for (let index = 0; index < words.length; index += wordsPerChunk) chunks.push(words.slice(index, index + wordsPerChunk).join(''));
  const leading = text.match(/^\s*/)?.[0] ?? '';
  if (leading && chunks.length > 0) chunks[0] = leading + chunks[0];
  return chunks.length > 0 ? chunks : [text];
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
