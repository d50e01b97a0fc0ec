/**
 * An injectable clock: logic asks a Clock for the time instead of calling Date.now(), so limiters,
 * expiry sweeps and reloads are tested by moving a ManualClock instead of sleeping.
 */

/** A source of wall-clock time. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

/** The real clock (Date.now). */
export const systemClock: Clock = { nowMs: () => Date.now() };

/** A clock that only moves when told to; for tests. */
export class ManualClock implements Clock {
  constructor(private _nowMs = 0) {}

  /** The current manual time, ms. */
  nowMs(): number {
    return this._nowMs;
  }

  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this._nowMs += ms;
  }

  /** Sets the clock to `ms`. */
  set(ms: number): void {
    this._nowMs = ms;
  }
}
