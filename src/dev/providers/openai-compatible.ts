import { createParser } from 'eventsource-parser';
import { estimateTokens, type AgentAnswer, type AgentProvider, type AgentRequest } from './types.js';

/**
 * Any OpenAI-compatible chat endpoint (OpenAI, Ollama, llama.cpp, vLLM): the instance's `agents.default.baseURL`
 * and model, with the key from its authRefs Secret when there is one. The answer is requested as a stream and
 * passed on chunk by chunk to the agent's log; the web proxy gets it whole when the agent is done, as upstream's
 * runner writes it (one stream-0.json). Errors carry the provider's own message, which becomes the run's status.error.
 */
export class OpenAiCompatibleProvider implements AgentProvider {
  readonly name: string;

  constructor(
    private readonly baseURL: string,
    private readonly apiKey: string | undefined,
  ) {
    this.name = `openai-compatible (${baseURL})`;
  }

  async run(request: AgentRequest, onChunk: (text: string) => void): Promise<AgentAnswer> {
    const started = Date.now();
    const messages = [
      ...(request.systemPrompt ? [{ role: 'system', content: request.systemPrompt }] : []),
      { role: 'user', content: request.task },
    ];
    const url = `${this.baseURL.replace(/\/+$/, '')}/chat/completions`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'text/event-stream',
          ...(this.apiKey ? { Authorization: `Bearer ${this.apiKey}` } : {}),
        },
        body: JSON.stringify({ model: request.model, messages, stream: true, stream_options: { include_usage: true } }),
        signal: request.signal,
      });
    } catch (error) {
      if (request.signal.aborted) throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`provider ${this.baseURL} unreachable: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
    if (!response.ok) throw new Error(`provider ${this.baseURL} answered ${response.status}: ${await errorMessage(response)}`);

    let text = '';
    let usage: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | undefined;
    let providerError: string | undefined;
    const contentType = response.headers.get('content-type') ?? '';
    if (!contentType.includes('text/event-stream')) {
      // Some servers ignore `stream: true`; take the whole answer as one chunk.
      const body = (await response.json()) as { choices?: { message?: { content?: string } }[]; usage?: typeof usage };
      text = body.choices?.[0]?.message?.content ?? '';
      if (text) onChunk(text);
      usage = body.usage;
    } else {
      const parser = createParser({
        onEvent: (event) => {
          if (event.data === '[DONE]') return;
          let data: { choices?: { delta?: { content?: string } }[]; usage?: typeof usage; error?: { message?: string } };
          try {
            data = JSON.parse(event.data);
          } catch {
            return;
          }
          if (data.error) providerError = data.error.message ?? JSON.stringify(data.error);
          const piece = data.choices?.[0]?.delta?.content;
          if (piece) {
            text += piece;
            onChunk(piece);
          }
          if (data.usage) usage = data.usage;
        },
      });
      const decoder = new TextDecoder();
      for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(bytes, { stream: true }));
    }
    if (providerError) throw new Error(`provider ${this.baseURL}: ${providerError}`);
    const inputTokens = usage?.prompt_tokens ?? estimateTokens(request.task) + estimateTokens(request.systemPrompt ?? '');
    const outputTokens = usage?.completion_tokens ?? estimateTokens(text);
    return {
      text,
      usage: { inputTokens, outputTokens, totalTokens: usage?.total_tokens ?? inputTokens + outputTokens, toolCalls: 0, durationMs: Date.now() - started },
    };
  }
}

async function errorMessage(response: Response): Promise<string> {
  const body = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } | string; message?: string };
    if (typeof parsed.error === 'string') return parsed.error;
    return parsed.error?.message ?? parsed.message ?? body.slice(0, 300);
  } catch {
    return body.trim().slice(0, 300) || response.statusText;
  }
}
