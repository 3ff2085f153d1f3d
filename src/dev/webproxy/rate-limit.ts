/**
 * One token bucket per proxy, as upstream: `burst` tokens, refilled at rpm/60 per second. Reconfiguring keeps
 * the tokens already earned (capped at the new burst), so changing the limits does not reset a client's budget.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private rpm: number,
    private burst: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = clock();
  }

  configure(rpm: number, burst: number): void {
    this.refill();
    this.rpm = rpm;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  /** Takes a token; when none is left, returns how many seconds until one is (for Retry-After). */
  take(): { ok: true } | { ok: false; retryAfterSeconds: number } {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    const perSecond = this.rpm / 60;
    const retryAfterSeconds = perSecond > 0 ? Math.max(1, Math.ceil((1 - this.tokens) / perSecond)) : 60;
    return { ok: false, retryAfterSeconds };
  }

  private refill(): void {
    const now = this.clock();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * (this.rpm / 60));
    this.last = now;
  }
}
