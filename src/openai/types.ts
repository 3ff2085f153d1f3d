/**
 * The slice of the OpenAI chat-completions wire format that a Sympozium web endpoint speaks (upstream's
 * internal/webproxy/openai.go at 4a6f5f1 and 8b74fa0; docs/sympozium-contract.md §5-6).
 */

type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  /** Upstream accepts only strings here. */
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
}

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion' | string;
  created?: number;
  model?: string;
  choices: { index: number; message: { role: string; content: string | null }; finish_reason: string | null }[];
  /** Upstream sends none; other OpenAI-compatible servers may. */
  usage?: Usage;
}

export interface ChatCompletionChunk {
  id?: string;
  object?: string;
  created?: number;
  model?: string;
  choices?: { index?: number; delta?: { role?: string; content?: string | null }; finish_reason?: string | null }[];
  usage?: Usage;
}

export interface ModelList {
  object: 'list' | string;
  data: { id: string; object?: string; created?: number; owned_by?: string }[];
}

/** The body of every error reply: `{"error":{"message":"...","type":"error"}}`. */
export interface ErrorBody {
  error?: { message?: string; type?: string; code?: string | number | null };
}

/** The prefix of a response id; the rest is the AgentRun's name. */
const completionIdPrefix = 'chatcmpl-';

/** The AgentRun behind a completion, from its id (`chatcmpl-<run>`), or undefined for a foreign id. */
export function runNameFromId(id: string | undefined): string | undefined {
  if (!id?.startsWith(completionIdPrefix)) return undefined;
  const name = id.slice(completionIdPrefix.length);
  // A Kubernetes object name: lowercase RFC 1123 labels joined by dots. Anything else is not a run.
  return /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) && name.length <= 253 ? name : undefined;
}

/** What the upstream proxy answers with when the agent produced nothing (its run failed in the runner or model). */
export const noResponseContent = '(no response)';
