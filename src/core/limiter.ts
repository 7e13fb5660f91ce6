/**
 * Admission control for one class of work: at most `concurrency` run at once, at most `queue`
 * wait, each for at most `waitMs`. A request that finds the queue full is refused at once (the
 * caller answers 503 with Retry-After) rather than joining a wait it would time out of anyway; so is
 * one whose expected wait (the requests ahead of it × the recent mean time a slot is held ÷
 * concurrency) is over `waitMs`: a queue of slow requests is shorter than a queue of quick ones.
 */
export interface LimitSettings {
  concurrency: number;
  queue: number;
  /** How long a queued request may wait for a slot before it is refused (ms). */
  waitMs: number;
  /** Refuse at entry a request that cannot expect a slot within waitMs (default true). */
  predictive?: boolean;
}

/** Weight of the newest slot time in the running mean: about the last ten requests count. */
const MEAN_WEIGHT = 0.1;

export class SaturatedError extends Error {
  constructor(
    readonly workClass: string,
    readonly reason: 'queue full' | 'would wait too long' | 'waited too long' | 'shutting down',
    readonly retryAfterSeconds: number,
  ) {
    super(`The server is busy with ${workClass} requests (${reason}); retry in ${retryAfterSeconds} s.`);
    this.name = 'SaturatedError';
  }
}

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export interface LimiterStats {
  running: number;
  queued: number;
  rejected: number;
  /** Recent mean time a slot is held (ms); 0 before the first release. */
  meanServiceMs: number;
}

export class Limiter {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private rejectedCount = 0;
  private closed = false;
  private meanMs = 0;

  constructor(
    readonly name: string,
    private readonly settings: LimitSettings,
  ) {}

  get stats(): LimiterStats {
    return {
      running: this.running,
      queued: this.waiting.length,
      rejected: this.rejectedCount,
      meanServiceMs: this.meanMs,
    };
  }

  /** How long a request joining the queue now can expect to wait (ms): the releases it needs at the recent pace. */
  expectedWaitMs(): number {
    return ((this.waiting.length + 1) * this.meanMs) / this.settings.concurrency;
  }

  /** A slot: resolves with its release function (call it once), or rejects with SaturatedError. */
  acquire(): Promise<() => void> {
    if (this.closed) return Promise.reject(this.refuse('shutting down'));
    if (this.running < this.settings.concurrency) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.settings.queue) return Promise.reject(this.refuse('queue full'));
    if (this.settings.predictive !== false && this.expectedWaitMs() > this.settings.waitMs)
      return Promise.reject(this.refuse('would wait too long'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(this.refuse('waited too long'));
        }, this.settings.waitMs),
      };
      this.waiting.push(waiter);
    });
  }

  /** Refuse everything queued and every later request (shutdown); running work finishes. */
  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(this.refuse('shutting down'));
    }
  }

  private refuse(reason: SaturatedError['reason']): SaturatedError {
    this.rejectedCount++;
    // A client told to come back later should not all come back at once: 1–2 s, or the wait a slot takes.
    const retry = Math.max(1, Math.ceil(this.settings.waitMs / 1000));
    return new SaturatedError(this.name, reason, retry);
  }

  private releaser(): () => void {
    let released = false;
    const since = performance.now();
    return () => {
      if (released) return;
      released = true;
      const ms = performance.now() - since;
      this.meanMs = this.meanMs === 0 ? ms : this.meanMs + MEAN_WEIGHT * (ms - this.meanMs);
      const next = this.waiting.shift();
      if (next) {
        clearTimeout(next.timer);
        next.resolve(this.releaser());
      } else {
        this.running--;
      }
    };
  }
}

/**
 * Requests per client over time: a token bucket per key (client address or token), refilled at
 * `perSecond`, holding at most `burst`. Buckets idle for a minute are forgotten.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = Date.now();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** 0 when the request may go on, else the seconds until a token is there. */
  take(key: string, now = Date.now()): number {
    if (now - this.lastSweep > 60_000) this.sweep(now);
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, b] of this.buckets) if (now - b.at > 60_000) this.buckets.delete(key);
  }
}
