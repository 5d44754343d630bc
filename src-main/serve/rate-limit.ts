// A token bucket, for what a peer may send: it refills at `perSecond` and holds a burst of two
// seconds' worth, so a peer in step never meets it and one flooding does at once.

export class RateLimit {
  private allowance: number;
  private at = performance.now();

  constructor(private readonly perSecond: number) {
    this.allowance = 2 * perSecond;
  }

  /** Takes one message's token; false when the peer is over its rate. */
  take(): boolean {
    const now = performance.now();
    this.allowance = Math.min(2 * this.perSecond, this.allowance + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.allowance < 1) return false;
    this.allowance -= 1;
    return true;
  }
}
