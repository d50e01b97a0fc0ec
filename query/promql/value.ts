import type { Labels, TimeMs } from '../../common/types.js';

/** One element of an instant vector result: labels and value at the vector's evaluation time. */
export interface VectorElement {
  readonly labels: Labels;
  readonly value: number;
}

/** One series of a matrix result; `tsMs` ascending, same length as `values`. */
export interface MatrixSeries {
  readonly labels: Labels;
  readonly tsMs: Float64Array;
  readonly values: Float64Array;
}

/**
 * The value a query evaluates to, as the HTTP API renders it. Matrix series are sorted by label set;
 * vector order is the engine's (sorted unless the query ends in sort()/sort_desc()/topk ordering).
 * Staleness markers never appear here.
 */
export type QueryValue =
  | { readonly type: 'vector'; readonly timeMs: TimeMs; readonly elements: VectorElement[] }
  | { readonly type: 'matrix'; readonly series: MatrixSeries[] }
  | { readonly type: 'scalar'; readonly timeMs: TimeMs; readonly value: number }
  | { readonly type: 'string'; readonly timeMs: TimeMs; readonly value: string };

/** A finished query: its value plus warnings to show in the API envelope. */
export interface QueryResult {
  readonly value: QueryValue;
  readonly warnings: string[];
}
