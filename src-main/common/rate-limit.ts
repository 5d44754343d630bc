// A token bucket, for what a peer may send (messages, or bytes): it refills at `perSecond` and holds
// a burst (by default two seconds' worth), so a peer in step never meets it and one flooding does.

export class RateLimit {
  private allowance: number;
  private at = performance.now();

  constructor(
    private readonly perSecond: number,
    private readonly burst = 2 * perSecond,
  ) {
    this.allowance = burst;
  }

  /** Takes `amount` tokens; false (and nothing taken) when the peer is over its rate. */
  take(amount = 1): boolean {
    const now = performance.now();
    this.allowance = Math.min(this.burst, this.allowance + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.allowance < amount) return false;
    this.allowance -= amount;
    return true;
  }
}
