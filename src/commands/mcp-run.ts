import type { Connection } from '../chat/connect.js';
import { RunTracker } from '../chat/run-tracker.js';
import { afterInterrupt, describeRun, failedRunGraceMs, finalStatusWaitMs, withRunDetails } from '../chat/turn.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { EndpointError } from '../openai/errors.js';
import type { AgentRun } from '../sympozium/types.js';

/**
 * The AgentRun behind one `mcp call`, followed as chat follows its run (src/chat/run-tracker.ts). Upstream's MCP
 * answer never names its run (executeAgentTask in internal/webproxy/mcp.go returns only the text), so the run is
 * named only when the watch saw this call create it: a new web-proxy run of the instance, created since the call,
 * whose task is the one sent. It also lets a run that failed be reported at once: upstream's proxy waits for a
 * completion event, and v0.5.8 publishes none for a run its controller fails before a Job exists, so the call
 * would only end as "agent run timed out" after 10 minutes.
 */
export class McpRunWatch {
  private tracker?: RunTracker;
  private readonly ready: Promise<void>;
  private failTimer?: NodeJS.Timeout;
  private failWith!: (error: CliError) => void;
  private failure?: CliError;
  private cluster?: Awaited<ReturnType<Connection['cluster']>>;
  /** Rejects when the run failed and the MCP server has not said so within a short grace. */
  readonly failed: Promise<never>;

  constructor(connection: Connection, private readonly instance: string, task: string, private readonly ctx: Context) {
    const since = Date.now();
    this.failed = new Promise<never>((_resolve, reject) => (this.failWith = reject));
    this.failed.catch(() => undefined);
    this.ready = connection.cluster().then((cluster) => {
      if (!cluster) return ctx.out.debug(`run details skipped: ${connection.clusterSkipped}`);
      this.cluster = cluster;
      this.tracker = new RunTracker({
        kube: cluster.kube,
        namespace: cluster.namespace,
        instance,
        task,
        since,
        debug: (message) => ctx.out.debug(message),
        secrets: [connection.target.apiKey],
        onUpdate: (run) => {
          if (run.status?.phase !== 'Failed' || this.failTimer) return;
          this.failTimer = setTimeout(() => {
            this.failure = runFailed(run, 'the agent run failed before the MCP server answered');
            this.failWith(this.failure);
          }, failedRunGraceMs);
        },
      }).start();
    }).catch((error: unknown) => ctx.out.debug(`run details skipped: ${(error as Error).message}`));
  }

  /** An error from the call, with what the run says added (its name, its error), when the run is known. */
  async explain(error: unknown): Promise<unknown> {
    clearTimeout(this.failTimer);
    if (!(error instanceof CliError) || error === this.failure) return error;
    await this.ready;
    const runName = await this.tracker?.identified(1_500);
    // Upstream's proxy ends a tool call with a JSON-RPC error for a run that failed ("agent run failed: <error>")
    // or that it gave up on after 10 minutes ("agent run timed out"): the run's outcome, not a refusal.
    const serverMessage = error instanceof EndpointError ? error.serverMessage : undefined;
    if (serverMessage === 'agent run timed out' || serverMessage?.startsWith('agent run failed: ')) {
      const run = runName ? await this.tracker?.final(runName, 1_000).catch(() => undefined) : undefined;
      if (run?.status?.phase === 'Failed') return runFailed(run, 'the agent run failed');
      const what = serverMessage.startsWith('agent run failed: ') ? `the agent run failed: ${serverMessage.slice('agent run failed: '.length)}` : 'the MCP server stopped waiting: the agent run timed out';
      return new CliError(`${what}${runName ? ` (${describeRun(runName, run)})` : ''}`, {
        hint: runName ? `See the run with \`sympozium runs get ${runName}\`.` : `Its run says more: sympozium runs list --instance ${this.instance}, then sympozium runs get <run>.`,
      });
    }
    return withRunDetails(error, runName, this.tracker);
  }

  /** What is known of the run when the call gave up (--timeout): its name and phase, or nothing. */
  async whereabouts(): Promise<{ runName: string; description: string } | undefined> {
    await this.ready;
    const runName = this.tracker?.runName;
    if (!runName) return undefined;
    return { runName, description: describeRun(runName, this.tracker?.current()) };
  }

  /**
   * After the answer (already printed): the run this call created and its final status, waited for as long as
   * upstream needs to write it (Succeeded and tokenUsage come after the Job ends), bounded.
   */
  async settle(): Promise<{ runName?: string; run?: AgentRun }> {
    clearTimeout(this.failTimer);
    await this.ready;
    if (!this.tracker) return {};
    const runName = await this.tracker.identified(1_500);
    if (!runName) return {};
    const run = await this.tracker.final(runName, finalStatusWaitMs).catch((error: unknown) => {
      this.ctx.out.debug(`could not read run ${runName}: ${(error as Error).message}`);
      return undefined;
    });
    return { runName, run };
  }

  /**
   * Ctrl-C while the call waited: the run it started is cancelled as upstream's abort does (deleted) with
   * `cancel` (--cancel-on-interrupt, the default on a terminal), or left going with where to find it; as chat.
   */
  async interrupted(cancel: boolean): Promise<void> {
    clearTimeout(this.failTimer);
    await this.ready;
    await afterInterrupt(this.ctx, this.tracker, this.cluster, cancel);
  }

  stop(): void {
    clearTimeout(this.failTimer);
    void this.ready.then(() => this.tracker?.stop());
  }
}

export function runFailed(run: AgentRun, lead: string): CliError {
  const name = run.metadata.name;
  return new CliError(`${lead}: run ${name} failed${run.status?.error ? `: ${run.status.error}` : ''}`, {
    hint: `See the run with \`sympozium runs get ${name}\` (and \`sympozium runs logs ${name}\` while its pod exists).`,
  });
}
