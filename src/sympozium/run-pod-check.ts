import type { KubeClient } from '../kube/client.js';
import { labels } from './types.js';

/**
 * Looks now and then at a Running task run's pod for containers the kubelet cannot start (a missing provider
 * Secret gives CreateContainerConfigError, a bad image ImagePullBackOff). Upstream keeps such a run Running until
 * its timeout (agentrun_controller.go reconcileRunning only looks at the Job), so whoever follows the run says so
 * once instead of waiting in silence. The first look comes after `firstMs`, as pods take a moment to start.
 */
export class RunPodCheck {
  private timer?: NodeJS.Timeout;
  private done = false;

  constructor(
    private readonly kube: KubeClient,
    private readonly namespace: string,
    private readonly runName: string,
    private readonly onProblem: (problems: string[]) => void,
    private readonly timing = { firstMs: 2_000, everyMs: 5_000 },
  ) {}

  /** The run is Running: start looking (again calls are harmless). */
  running(): void {
    this.schedule(this.timing.firstMs);
  }

  stop(): void {
    this.done = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.done || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.look().catch(() => {});
    }, delayMs);
    this.timer.unref?.();
  }

  private async look(): Promise<void> {
    if (this.done) return;
    const { podProblemsOf } = await import('../kube/deployments.js');
    const problems = await podProblemsOf(this.kube, this.namespace, `${labels.agentRun}=${this.runName}`, { waitingOnly: true });
    if (this.done) return;
    if (problems.length) {
      this.done = true;
      this.onProblem(problems);
      return;
    }
    this.schedule(this.timing.everyMs);
  }
}
