/**
 * One token bucket per proxy, as upstream's RateLimiter (internal/webproxy/ratelimit.go): `burst` tokens to
 * start with, refilled at rpm/60 a second, one taken per request; a refused request gets nothing to say when to
 * come back (no Retry-After). Reconfiguring keeps the tokens already earned (capped at the new burst).
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

  /** A new RateLimiter (a restarted proxy process): the whole burst again. */
  refillAll(): void {
    this.tokens = this.burst;
    this.last = this.clock();
  }

  /** Allow(): takes a token if there is one. */
  allow(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(): void {
    const now = this.clock();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * (this.rpm / 60));
    this.last = now;
  }
}
