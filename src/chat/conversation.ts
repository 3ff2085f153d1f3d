import type { ChatMessage } from '../openai/types.js';

/**
 * The messages one request carries. The upstream proxy uses only the last user message as the run's task
 * (internal/webproxy/openai.go at 4a6f5f1 and 8b74fa0; docs/sympozium-contract.md §6), so by default the earlier
 * turns are folded into that message as a delimited transcript; `send` passes them as separate messages for proxies
 * that do read them, `none` sends only the new message.
 */

export type HistoryMode = 'fold' | 'send' | 'none';

export interface Turn {
  user: string;
  assistant: string;
}

export const foldMarkers = {
  begin: '--- earlier in this conversation (context only; answer the new message below) ---',
  end: '--- end of earlier conversation ---',
} as const;

export function foldTranscript(history: Turn[], message: string): string {
  if (history.length === 0) return message;
  const lines: string[] = [foldMarkers.begin];
  for (const turn of history) lines.push(`[user]\n${turn.user}`, `[assistant]\n${turn.assistant}`);
  lines.push(foldMarkers.end, '', message);
  return lines.join('\n');
}

export function buildMessages(options: { system?: string; history: Turn[]; message: string; mode: HistoryMode }): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (options.system) messages.push({ role: 'system', content: options.system });
  if (options.mode === 'send') {
    for (const turn of options.history) messages.push({ role: 'user', content: turn.user }, { role: 'assistant', content: turn.assistant });
    messages.push({ role: 'user', content: options.message });
  } else if (options.mode === 'fold') {
    messages.push({ role: 'user', content: foldTranscript(options.history, options.message) });
  } else {
    messages.push({ role: 'user', content: options.message });
  }
  return messages;
}

/** The task the proxy will give the run: the last user message, as sent. */
export function taskOf(messages: ChatMessage[]): string {
  return [...messages].reverse().find((message) => message.role === 'user')?.content ?? '';
}
