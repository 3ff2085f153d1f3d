/**
 * How long each simulated stage takes. A real cluster takes seconds to schedule a pod or start a Job; the demo
 * keeps that feel (`realistic`), and tests use `fast` so a whole lifecycle takes well under a second.
 */
export interface Timings {
  /** How long a new instance stays Pending before its first reconcile result (Running, Serving or Error). */
  instanceReconcileMs: number;
  /** Empty phase -> Running for a task run: scheduling its pod and starting the agent. */
  runStartMs: number;
  /** The pause between chunks of the echo model's answer. */
  echoChunkMs: number;
  /** Deployment created (or restarted) -> its pod Running and Ready. */
  podReadyMs: number;
  /** Every instance is reconciled again this often, as a controller's periodic resync does. */
  resyncMs: number;
  /** Run changes within this window update the instance's counts (activeAgentPods, totalAgentRuns) once. */
  countsDebounceMs: number;
  /** The `spec.timeout` v0.5.8's web proxy puts on the runs it creates (upstream: always 10m). */
  webRunTimeout: string;
  /**
   * How long the web proxy waits for a run's completion event before it gives up ("agent run timed out"):
   * `time.After(10 * time.Minute)` in internal/webproxy/openai.go and mcp.go, at v0.5.8 and v0.10.46 alike.
   */
  proxyTimeoutMs: number;
  /** A finished task run's Job (and pod) is deleted after this: upstream's ttlSecondsAfterFinished, 300 s. */
  jobTtlMs: number;
  /**
   * The agent wrote its result -> the Job reports the end and the controller marks the run: the agent and
   * ipc-bridge containers exit, the Job controller counts the pod, and the AgentRun controller (which owns the
   * Job) reads the result from the pod's log. Upstream's runs turn Succeeded a few seconds after the answer.
   */
  jobEndMs: number;
}

export const timingPresets: Record<'fast' | 'realistic', Timings> = {
  fast: { instanceReconcileMs: 20, runStartMs: 10, echoChunkMs: 5, podReadyMs: 30, resyncMs: 2000, countsDebounceMs: 20, webRunTimeout: '10m', proxyTimeoutMs: 600_000, jobTtlMs: 300_000, jobEndMs: 15 },
  realistic: { instanceReconcileMs: 800, runStartMs: 600, echoChunkMs: 120, podReadyMs: 1500, resyncMs: 10_000, countsDebounceMs: 200, webRunTimeout: '10m', proxyTimeoutMs: 600_000, jobTtlMs: 300_000, jobEndMs: 2000 },
};

export function resolveTimings(preset: keyof typeof timingPresets | undefined, overrides: Partial<Timings> = {}): Timings {
  return { ...timingPresets[preset ?? 'fast'], ...overrides };
}

/** A run's spec.timeout when it has none: reconcileRunning's default hard timeout, 10 minutes. */
export const defaultRunTimeoutMs = 10 * 60_000;

/** Parses a Go duration (`90s`, `1m30s`, `250ms`, `1h`); undefined when it is not one. */
export function parseGoDuration(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const trimmed = text.trim();
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy)) {
    total += Number(match[1]) * unit[match[2]!]!;
    consumed += match[0].length;
  }
  return consumed === trimmed.length && consumed > 0 ? total : undefined;
}
