import type { KubeClient } from '../kube/client.js';
import { redactStatus } from '../sympozium/secrets.js';
import { RunPodCheck } from '../sympozium/run-pod-check.js';
import { labels, sources, type AgentRun } from '../sympozium/types.js';

/**
 * Follows the AgentRun behind one chat request. The proxy names the run only in its answer
 * (`chatcmpl-<run>`), so while waiting this watches the instance's web-proxy runs and takes the new one whose
 * task is the message we sent; that shows the run's phase on the spinner and, when the run fails before the
 * proxy says so (upstream can hang until its 10-minute timeout), tells the truth sooner.
 */

const terminalPhases = new Set(['Succeeded', 'Failed', 'Skipped']);

export interface RunTrackerOptions {
  kube: KubeClient;
  namespace: string;
  instance: string;
  /** The run's expected spec.task: the last user message as sent. */
  task: string;
  /** When the request was sent (ms since the epoch); runs created earlier are not ours. */
  since?: number;
  onUpdate?: (run: AgentRun) => void;
  debug?: (message: string) => void;
  /** Secrets to mask in what runs say (the endpoint key); credential-shaped text is masked anyway. */
  secrets?: string[];
  /**
   * Our run is Running but its pod cannot start (a missing provider Secret, an image that cannot be pulled):
   * said once, because upstream keeps such a run Running until its timeout and the proxy waits as long.
   */
  onPodProblem?: (run: AgentRun, problems: string[]) => void;
}


export class RunTracker {
  private readonly options: RunTrackerOptions;
  private readonly abort = new AbortController();
  private readonly existing = new Set<string>();
  /** Runs created before this (to the second, as Kubernetes records it) are not ours. */
  private readonly startedAt: number;
  private readonly latest = new Map<string, AgentRun>();
  private waiters: (() => void)[] = [];
  /** The run this request created, once recognised. */
  runName?: string;
  private podCheck?: RunPodCheck;

  constructor(options: RunTrackerOptions) {
    this.options = options;
    // creationTimestamp has whole seconds: round down so a run created in the same second still counts.
    this.startedAt = Math.floor((options.since ?? Date.now()) / 1000) * 1000;
  }

  /** Starts the watch in the background; failures only end it (the answer does not depend on it). */
  start(): this {
    void this.follow().catch((error: unknown) => {
      if (!this.abort.signal.aborted) this.options.debug?.(`run watch ended: ${(error as Error).message ?? error}`);
    });
    return this;
  }

  /** The response id named the run: stop guessing. */
  identify(runName: string): void {
    this.runName = runName;
    this.notify();
  }

  /** Our run's name, waiting up to `waitMs` for the watch to recognise it (an error can beat the first list). */
  async identified(waitMs: number): Promise<string | undefined> {
    const deadline = Date.now() + waitMs;
    while (!this.runName && Date.now() < deadline && !this.abort.signal.aborted) await this.changed(deadline - Date.now());
    return this.runName;
  }

  current(): AgentRun | undefined {
    return this.runName ? this.latest.get(this.runName) : undefined;
  }

  /**
   * The run's latest state, waiting up to `waitMs` for it to finish (its status is written just after the
   * proxy answers), and reading it directly when the watch never saw it.
   */
  async final(runName: string, waitMs: number): Promise<AgentRun | undefined> {
    this.identify(runName);
    const deadline = Date.now() + waitMs;
    const { runPath } = await import('../sympozium/kinds.js');
    // Bounded: with --url the kubeconfig may point at a cluster that is far away or gone.
    const read = async () => this.latest.get(runName) ?? (await this.readRun(runPath(this.options.namespace, runName), Math.max(1_000, deadline - Date.now())));
    let run = await read();
    while (run && !terminalPhases.has(run.status?.phase ?? '') && Date.now() < deadline && !this.abort.signal.aborted) {
      // Woken by the watch; without one (it failed), this re-reads once the wait is over.
      await this.changed(deadline - Date.now());
      run = (await read()) ?? run;
    }
    return run;
  }

  private async readRun(path: string, timeoutMs: number): Promise<AgentRun | undefined> {
    try {
      return redactStatus((await this.options.kube.request<AgentRun>({ path, timeoutMs, signal: this.abort.signal })).body, this.options.secrets);
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  }

  /**
   * Ours, looked up once more with another client (the watch's may be gone with the command's signal after
   * Ctrl-C): the newest run of the instance created since the request with its task, if the watch missed it.
   */
  async findWith(kube: KubeClient): Promise<string | undefined> {
    if (this.runName) return this.runName;
    const { runPath } = await import('../sympozium/kinds.js');
    const list = await kube.list<AgentRun>(runPath(this.options.namespace), { labelSelector: `${labels.instance}=${this.options.instance},${labels.source}=${sources.webProxy}` });
    const ours = list.items
      .filter((run) => !this.existing.has(run.metadata.name) && this.createdSinceStart(run) && this.isOurs(run))
      .sort((a, b) => Date.parse(b.metadata.creationTimestamp ?? '') - Date.parse(a.metadata.creationTimestamp ?? ''));
    return ours[0]?.metadata.name;
  }

  stop(): void {
    this.abort.abort();
    this.podCheck?.stop();
    this.notify();
  }


  private async follow(): Promise<void> {
    const { watchObjects } = await import('../kube/watch.js');
    const { runPath } = await import('../sympozium/kinds.js');
    const selector = `${labels.instance}=${this.options.instance},${labels.source}=${sources.webProxy}`;
    for await (const update of watchObjects<AgentRun>(this.options.kube, runPath(this.options.namespace), {
      labelSelector: selector,
      signal: this.abort.signal,
      maxRetries: 2,
    })) {
      if (update.type === 'LISTED') {
        // The request races the list: a run created before the list was answered can still be ours.
        if (!update.relist) for (const item of update.items) if (!this.createdSinceStart(item)) this.existing.add(item.metadata.name);
        for (const item of update.items) this.see(item);
        continue;
      }
      if (update.type === 'DELETED') continue;
      this.see(update.object);
    }
  }

  private see(seen: AgentRun): void {
    // Run errors are the server's text and reach chat's output: a provider error can quote the key.
    const run = redactStatus(seen, this.options.secrets);
    const name = run.metadata.name;
    if (!this.runName && !this.existing.has(name) && this.isOurs(run)) {
      this.runName = name;
      this.options.debug?.(`our request is AgentRun ${name}`);
    }
    if (name === this.runName) {
      this.latest.set(name, run);
      this.options.onUpdate?.(run);
      if (run.status?.phase === 'Running' && this.options.onPodProblem && !this.abort.signal.aborted) {
        const onPodProblem = this.options.onPodProblem;
        this.podCheck ??= new RunPodCheck(this.options.kube, this.options.namespace, name, (problems) => onPodProblem(this.latest.get(name) ?? run, problems));
        this.podCheck.running();
      } else if (terminalPhases.has(run.status?.phase ?? '')) this.podCheck?.stop();
    } else if (!this.runName) {
      // Kept until we know which is ours, in case the response names one seen before recognition.
      this.latest.set(name, run);
    }
    this.notify();
  }

  private createdSinceStart(run: AgentRun): boolean {
    const created = Date.parse(run.metadata.creationTimestamp ?? '');
    return Number.isFinite(created) && created >= this.startedAt;
  }

  private isOurs(run: AgentRun): boolean {
    const task = run.spec?.task;
    return typeof task === 'string' ? task === this.options.task : JSON.stringify(task ?? '').includes(JSON.stringify(this.options.task).slice(1, -1));
  }

  private changed(ms: number): Promise<void> {
    return new Promise((resolvePromise) => {
      const timer = setTimeout(resolvePromise, Math.max(0, ms));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolvePromise();
      });
    });
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
