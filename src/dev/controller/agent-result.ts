import type { TokenUsage } from '../../sympozium/types.js';

/**
 * The agent runner's result line and how the controller reads it back. Upstream's agent-runner prints
 * `__SYMPOZIUM_RESULT__{json}__SYMPOZIUM_END__` on stdout as its last act (cmd/agent-runner/main.go), and the
 * AgentRun controller reads the last 80 lines of the agent container's log once the Job has ended, because the
 * IPC volume is gone by then (agentrun_controller.go extractResultFromPod, parseAgentResultFromLogs; the same at
 * v0.5.8 and v0.10.46). Dev's controller does the same through the API's pod log, so what `kubectl logs` shows
 * and what the run's status says come from one place.
 */

const markerStart = '__SYMPOZIUM_RESULT__';
const markerEnd = '__SYMPOZIUM_END__';

/** How many log lines the controller reads, as upstream's PodLogOptions.TailLines. */
export const resultTailLines = 80;

export interface AgentOutcome {
  status: 'success' | 'error';
  response?: string;
  error?: string;
  metrics?: { durationMs?: number; inputTokens?: number; outputTokens?: number; toolCalls?: number };
}

/** The marker line the agent prints (with the newline before it that upstream's Fprintf writes). */
export function resultMarker(outcome: AgentOutcome): string {
  return `\n${markerStart}${JSON.stringify(outcome)}${markerEnd}`;
}

/**
 * What the controller makes of the log: the result and token usage on success, or the error. Token usage is
 * only set when a token was counted, and its total is input plus output, as upstream computes it; a log with no
 * parsable marker gives neither (upstream then fails a failed Job with "Job failed" and succeeds a succeeded one
 * with an empty result).
 */
export function parseAgentOutcome(log: string): { result: string; error: string; tokenUsage?: TokenUsage } {
  const start = log.lastIndexOf(markerStart);
  if (start < 0) return { result: '', error: '' };
  const rest = log.slice(start + markerStart.length);
  const end = rest.indexOf(markerEnd);
  if (end < 0) return { result: '', error: '' };
  let parsed: AgentOutcome;
  try {
    parsed = JSON.parse(rest.slice(0, end).trim()) as AgentOutcome;
  } catch {
    return { result: '', error: '' };
  }
  const metrics = parsed.metrics ?? {};
  const inputTokens = metrics.inputTokens ?? 0;
  const outputTokens = metrics.outputTokens ?? 0;
  const tokenUsage =
    inputTokens > 0 || outputTokens > 0
      ? { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, toolCalls: metrics.toolCalls ?? 0, durationMs: metrics.durationMs ?? 0 }
      : undefined;
  if (parsed.status === 'error') return { result: '', error: parsed.error?.trim() || 'agent run failed' };
  return { result: parsed.response ?? '', error: '', tokenUsage };
}
