// Token buckets, one per key (an API token): `rate` units per second, at most `burst` saved up.
// Pure: the caller passes the clock. A request that does not fit is told when it would.

export interface RateLimit {
  /** units (records) per second */
  rate: number;
  /** the most units one key can spend at once (at least the largest request) */
  burst: number;
}

export type Admission = { ok: true } | { ok: false; retryAfterSeconds: number };

export class RateLimiter {
  private readonly buckets = new Map<string, { level: number; at: number }>();
  readonly limit: RateLimit;

  constructor(limit: RateLimit) {
    if (!(limit.rate > 0) || !(limit.burst >= 1)) throw new Error('rate limit: rate must be > 0 and burst ≥ 1');
    this.limit = limit;
  }

  /** Spend `units` for `key` at time `now` (ms), or say how many whole seconds until it would fit. */
  take(key: string, units: number, now: number): Admission {
    const { rate, burst } = this.limit;
    const b = this.buckets.get(key) ?? { level: burst, at: now };
    b.level = Math.min(burst, b.level + ((now - b.at) / 1000) * rate);
    b.at = now;
    this.buckets.set(key, b);
    if (units <= b.level) {
      b.level -= units;
      return { ok: true };
    }
    const need = Math.min(units, burst) - b.level;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(need / rate)) };
  }
}
