import { XorIterator } from './xor.js';

/**
 * Sample-by-sample reader of one XOR chunk with seek. Reuse one instance via `reset(bytes)`;
 * `bytes` must stay unchanged while iterating. Throws `chunk-corrupt` on malformed data.
 */
export class SampleIterator {
  private readonly _it = new XorIterator();
  private readonly _scratch = new Float64Array(1);
  private readonly _scratchWords = new Uint32Array(this._scratch.buffer);
  private _valid = false;

  /** Points the iterator at a chunk, before its first sample. */
  reset(bytes: Uint8Array): void {
    this._it.reset(bytes);
    this._valid = false;
  }

  /** Advances to the next sample; false when the chunk is exhausted. */
  next(): boolean {
    this._valid = this._it.next();
    return this._valid;
  }

  /** Advances to the first sample with timestamp ≥ `tMs` (stays put if already there); false if none. */
  seek(tMs: number): boolean {
    if (this._valid && this._it.t >= tMs) return true;
    while (this.next()) if (this._it.t >= tMs) return true;
    return false;
  }

  /** Timestamp (ms) of the current sample. */
  atT(): number {
    return this._it.t;
  }

  /**
   * Value of the current sample as a number. NaN payloads may not survive a JS number on every
   * engine; use `copyValueTo` when bits matter (staleness markers).
   */
  atV(): number {
    this._scratchWords[0] = this._it.vLo;
    this._scratchWords[1] = this._it.vHi;
    return this._scratch[0] as number;
  }

  /** Writes the current value bit-exact into element `i` of the Float64Array viewed by `words`. */
  copyValueTo(words: Uint32Array, i: number): void {
    words[2 * i] = this._it.vLo;
    words[2 * i + 1] = this._it.vHi;
  }
}
