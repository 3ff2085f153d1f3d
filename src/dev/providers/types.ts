import type { TokenUsage } from '../../sympozium/types.js';

/** What a run asks of a model: the task, the system prompt and the instance's model name. */
export interface AgentRequest {
  task: string;
  systemPrompt?: string;
  model: string;
  /** Aborted when the run times out, is deleted, or the control plane stops. */
  signal: AbortSignal;
}

export interface AgentAnswer {
  text: string;
  usage: TokenUsage;
  /** The ipc-bridge reports result.json before stream-0.json (a race upstream's fsnotify watch can lose). */
  completionFirst?: boolean;
}

/** The agent runner dies without writing a result (killed, OOM): the Job fails and the controller says why. */
export class AgentCrash extends Error {}

/**
 * A model provider. `run` calls `onChunk` with each piece of the answer as it is produced (the agent's log shows
 * them) and resolves with the whole answer, which is what the web proxy gets, or rejects with an Error whose
 * message is the provider's own (it becomes the run's status.error).
 */
export interface AgentProvider {
  readonly name: string;
  run(request: AgentRequest, onChunk: (text: string) => void): Promise<AgentAnswer>;
}

/** A rough token count (about four characters a token) for providers that do not report usage. */
export function estimateTokens(text: string): number {
  return text ? Math.max(1, Math.ceil(text.length / 4)) : 0;
}
