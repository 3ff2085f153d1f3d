/**
 * A keyed work queue like client-go's: a key queued many times while waiting is processed once, a key is
 * never processed by two workers at once (a change that arrives mid-reconcile queues it again), and a failed
 * reconcile is retried with a growing delay.
 */
export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly soon = new Set<string>();
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly process: (key: string) => Promise<void>,
    private readonly log: (line: string) => void,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.soon.delete(key);
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.pending.has(key)) return;
    this.pending.add(key);
    // setImmediate, not a microtask: two reconcilers queueing each other must never starve I/O.
    setImmediate(() => void this.run(key));
  }

  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.add(key);
    }, ms);
    timer.unref?.();
    this.timers.add(timer);
  }

  /** Adds the key once after `ms`, however often it is asked for meanwhile: coalesces bursts of events. */
  addSoon(key: string, ms: number): void {
    if (this.stopped || this.soon.has(key)) return;
    this.soon.add(key);
    this.addAfter(key, ms);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** Resolves when nothing is queued or running (used on shutdown). */
  idle(): Promise<void> {
    if (this.pending.size === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(key: string): Promise<void> {
    if (!this.pending.delete(key)) return;
    this.running.add(key);
    try {
      await this.process(key);
      this.failures.delete(key);
    } catch (error) {
      const count = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, count);
      const delay = Math.min(5000, 20 * 2 ** Math.min(count, 8));
      this.log(`reconcile ${key} failed (attempt ${count}, retrying in ${delay}ms): ${(error as Error).message}`);
      this.addAfter(key, delay);
    } finally {
      this.running.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      if (this.pending.size === 0 && this.running.size === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }
}
