/**
 * Byte regions for many small, growing buffers (the open head chunk of every series) carved out
 * of large shared pages.
 *
 * Why: a Uint8Array of its own costs ~230 bytes of V8 objects (the typed array, its ArrayBuffer
 * and the backing store's header) before its first data byte; with a head per active series that
 * was the largest single item of storage memory per series. A region here costs the writer two
 * small integers and its rounded-up size.
 *
 * Regions come in size classes (multiples of 16 bytes up to 512, then powers of two up to
 * MAX_REGION_BYTES); a freed region goes on its class's free list and is handed out again before
 * any new page space. Bigger buffers are not the arena's business: callers give them their own
 * array. Pages are never returned (the heads of a stable set of series reuse the same regions).
 */

/** Bytes of one page. */
const PAGE_BYTES = 1 << 20;
/** Largest region; buffers above it get their own array. */
export const MAX_REGION_BYTES = 16 << 10;
const SMALL_STEP = 16;
const SMALL_MAX = 512;
const SMALL_CLASSES = SMALL_MAX / SMALL_STEP; // classes 0..31: 16..512 bytes

/** Size class of a request of `bytes` (1 ≤ bytes ≤ MAX_REGION_BYTES). */
function classOf(bytes: number): number {
  if (bytes <= SMALL_MAX) return Math.ceil(bytes / SMALL_STEP) - 1;
  // 513..1024 → 32, ..2048 → 33, …
  return SMALL_CLASSES + Math.ceil(Math.log2(bytes)) - 10;
}

/** Capacity of the regions of class `c`. */
function capacityOf(c: number): number {
  return c < SMALL_CLASSES ? (c + 1) * SMALL_STEP : 1 << (c - SMALL_CLASSES + 10);
}

export class ByteArena {
  /** The pages; a region is (page number, offset). */
  readonly pages: Uint8Array[] = [];
  /** First unused byte of the last page. */
  private _top = PAGE_BYTES;
  /** Per class: free regions as flat (page, offset) pairs. */
  private readonly _free: number[][] = [];
  private _bytesInUse = 0;
  /** Where the last alloc() put its region (read right after the call: no object per region). */
  allocPage = 0;
  allocOffset = 0;

  /**
   * Reserves a region of at least `bytes` (≤ MAX_REGION_BYTES) bytes and returns its capacity;
   * its page and offset are then in `allocPage` and `allocOffset`. Contents are undefined.
   */
  alloc(bytes: number): number {
    if (!(bytes >= 1 && bytes <= MAX_REGION_BYTES)) throw new RangeError(`arena region of ${bytes} bytes`);
    const c = classOf(bytes);
    const cap = capacityOf(c);
    this._bytesInUse += cap;
    const list = this._free[c];
    if (list !== undefined && list.length > 0) {
      this.allocOffset = list.pop() as number;
      this.allocPage = list.pop() as number;
      return cap;
    }
    if (this._top + cap > PAGE_BYTES) {
      this.pages.push(new Uint8Array(PAGE_BYTES));
      this._top = 0;
    }
    this.allocPage = this.pages.length - 1;
    this.allocOffset = this._top;
    this._top += cap;
    return cap;
  }

  /** Returns a region obtained from alloc (`cap` = the capacity alloc returned). */
  free(page: number, offset: number, cap: number): void {
    const c = classOf(cap);
    let list = this._free[c];
    if (list === undefined) {
      list = [];
      this._free[c] = list;
    }
    list.push(page, offset);
    this._bytesInUse -= cap;
  }

  /** Bytes of regions handed out and not freed. */
  get bytesInUse(): number {
    return this._bytesInUse;
  }

  /** Bytes of all pages. */
  get bytesReserved(): number {
    return this.pages.length * PAGE_BYTES;
  }
}
