import { parseGoDuration } from '../controller/timings.js';
import { AgentCrash, estimateTokens, type AgentAnswer, type AgentProvider, type AgentRequest } from './types.js';

/**
 * The offline model of the local control plane: deterministic, free, and honest about what it is. Its answer
 * names itself and repeats the task, in a few chunks with a pause between them (at most `maxChunks`, so a long
 * task answers as fast as a short one).
 *
 * Test hooks, for exercising upstream's failure paths without a real model (documented in the README of
 * `sympozium dev`), each a marker in the task:
 * - `[fail]`: the model call fails, so the agent runner writes an error result: its ipc-bridge publishes that as
 *   the completion (no response), which upstream's proxy answers 200 "(no response)"; the run then fails with the
 *   provider-style error once its Job ends;
 * - `[crash]`: the agent dies without writing any result: no completion event, the Job fails and the controller
 *   fails the run with "Job failed" (v0.10.46 publishes that, so the proxy answers "agent run failed: Job failed";
 *   v0.5.8 does not, so the request waits out the proxy's timeout);
 * - `[completion-first]`: the bridge reports result.json before stream-0.json, so a streaming request gets its
 *   stop chunk and [DONE] with no content (a blocking one still gets the answer, from the completion event);
 * - `[slow:<duration>]` (a Go duration, `[slow:3s]`): the answer takes that long before it starts;
 * - `[hang]`: never answers (until the run's timeout or deletion aborts it);
 * - `[silent]`: succeeds with no text at all (the completion has no response: "(no response)");
 * - `[verbatim]`: answers the task itself, without the marker and the echo prefix (an answer of the test's choosing).
 */
export const echoPrefix = 'This is the local echo model of `sympozium dev` (no LLM was called). You asked:';
const failMarker = '[fail]';
export const hangMarker = '[hang]';
const silentMarker = '[silent]';
const verbatimMarker = '[verbatim]';
const crashMarker = '[crash]';
const completionFirstMarker = '[completion-first]';
const slowMarker = /\[slow:([0-9.]+(?:ns|us|µs|ms|s|m|h)(?:[0-9.]+(?:ns|us|µs|ms|s|m|h))*)\]/;
const maxChunks = 8;

export class EchoProvider implements AgentProvider {
  readonly name = 'echo';

  constructor(private readonly chunkDelayMs: number) {}

  async run(request: AgentRequest, onChunk: (text: string) => void): Promise<AgentAnswer> {
    const started = Date.now();
    if (request.task.includes(hangMarker)) {
      await new Promise<void>((resolve) => request.signal.addEventListener('abort', () => resolve(), { once: true }));
      throw abortError(request.signal);
    }
    const slow = parseGoDuration(request.task.match(slowMarker)?.[1]);
    if (slow) await this.pause(request.signal, slow);
    if (request.signal.aborted) throw abortError(request.signal);
    if (request.task.includes(crashMarker)) {
      await this.pause(request.signal);
      throw new AgentCrash(`killed before writing a result because the task contains ${crashMarker}`);
    }
    if (request.task.includes(failMarker)) {
      await this.pause(request.signal);
      throw new Error(`echo model: failing on purpose because the task contains ${failMarker}`);
    }
    const text = request.task.includes(silentMarker) ? '' : request.task.includes(verbatimMarker) ? request.task.replace(verbatimMarker, '').trim() : `${echoPrefix} ${request.task}`;
    for (const chunk of splitIntoChunks(text, Math.max(4, Math.ceil((text.match(/\S+/g)?.length ?? 0) / maxChunks)))) {
      await this.pause(request.signal);
      if (request.signal.aborted) throw abortError(request.signal);
      onChunk(chunk);
    }
    const inputTokens = estimateTokens(request.task) + estimateTokens(request.systemPrompt ?? '');
    const outputTokens = estimateTokens(text);
    return {
      text,
      usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, toolCalls: 0, durationMs: Date.now() - started },
      ...(request.task.includes(completionFirstMarker) ? { completionFirst: true } : {}),
    };
  }

  private pause(signal: AbortSignal, ms = this.chunkDelayMs): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
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
