import type { CompiledMatcher } from '../../common/matchers.js';
import { MatchType, type Labels } from '../../common/types.js';
import { EMPTY_POSTINGS, intersectAll, PostingsBuilder, unionAll, without } from '../postings.js';

/**
 * In-memory inverted index of one tenant: label name → value → sorted series ids, plus, per
 * name, the ids of every series that has that label, and the universe of ids.
 *
 * Matchers are answered without scanning every series: `=` is a lookup, `=~` walks the values of
 * one name, and matchers that accept the empty string (an absent label) subtract the series whose
 * value they reject from the rest (the universe when no other matcher narrows it).
 * Returned arrays are views or shared results: read-only, valid until the next `add`.
 */
/** Postings of one label name or value, remembering the string it is filed under (for interning). */
class LabelPostings extends PostingsBuilder {
  /** Of a value's postings: the id a persistent backend gave the (name, value) pair (0: none). */
  pairId = 0;
  constructor(
    readonly label: string,
    initial?: number,
  ) {
    super(initial);
  }
}

export class SeriesIndex {
  private readonly _values = new Map<string, Map<string, LabelPostings>>();
  private readonly _byName = new Map<string, LabelPostings>();
  private readonly _all = new PostingsBuilder(64);

  /** Number of indexed series. */
  get seriesCount(): number {
    return this._all.length;
  }

  /**
   * Indexes series `id` (a non-negative integer below 2^32) with its label pairs. Returns the same
   * labels as an exact-size array of the index's own strings, so series sharing a name or value
   * share one string (holding that array instead of `labels` saves memory per series).
   * `pairIds[i]`, when given, is the backend's id of label pair i; it is kept with the pair while
   * any series has it (see pairId), so the backend needs no map of its own.
   */
  add(id: number, labels: Labels, pairIds?: ArrayLike<number>): Labels {
    this._all.push(id);
    const interned = new Array<string>(labels.length);
    for (let i = 0; i < labels.length; i += 2) {
      const name = labels[i] as string;
      const value = labels[i + 1] as string;
      let byValue = this._values.get(name);
      let byName = this._byName.get(name);
      if (byValue === undefined || byName === undefined) {
        byValue = new Map();
        byName = new LabelPostings(name);
        this._values.set(name, byValue);
        this._byName.set(name, byName);
      }
      let p = byValue.get(value);
      if (p === undefined) {
        p = new LabelPostings(value, 1);
        byValue.set(value, p);
      }
      if (pairIds !== undefined && p.pairId === 0) p.pairId = pairIds[i >>> 1] as number;
      p.push(id);
      byName.push(id);
      interned[i] = byName.label;
      interned[i + 1] = p.label;
    }
    return interned;
  }

  /**
   * Removes series from the index. `ids` is ascending; `labelsOf(id)` gives each one's labels.
   * Values and names left without series disappear (label-name and label-value lookups must not
   * report them). Cost: proportional to the postings lists the removed series appear in.
   * `onPairGone` receives the pair id (see add) of every pair left without series.
   */
  remove(ids: Uint32Array, labelsOf: (id: number) => Labels, onPairGone?: (pairId: number) => void): void {
    if (ids.length === 0) return;
    this._all.removeAll(ids);
    const touched = new Set<string>();
    for (let k = 0; k < ids.length; k++) {
      const labels = labelsOf(ids[k] as number);
      for (let i = 0; i < labels.length; i += 2) touched.add(`${labels[i] as string}\xff${labels[i + 1] as string}`);
    }
    for (const pair of touched) {
      const sep = pair.indexOf('\xff');
      const name = pair.slice(0, sep);
      const value = pair.slice(sep + 1);
      const byValue = this._values.get(name);
      const p = byValue?.get(value);
      if (byValue === undefined || p === undefined) continue;
      p.removeAll(ids);
      if (p.length === 0) {
        byValue.delete(value);
        if (p.pairId !== 0) onPairGone?.(p.pairId);
      }
      const byName = this._byName.get(name) as LabelPostings;
      byName.removeAll(ids);
      if (byName.length === 0) {
        this._byName.delete(name);
        this._values.delete(name);
      }
    }
  }

  /** The pair id given to `name="value"` by add (0: no series has the pair, or it has no id). */
  pairId(name: string, value: string): number {
    return this._values.get(name)?.get(value)?.pairId ?? 0;
  }

  /** All series ids, ascending. */
  all(): Uint32Array {
    return this._all.view();
  }

  /** Ids of series that have label `name` (any value). */
  withName(name: string): Uint32Array {
    return this._byName.get(name)?.view() ?? EMPTY_POSTINGS;
  }

  /** Ids of series with `name="value"`. */
  withValue(name: string, value: string): Uint32Array {
    return this._values.get(name)?.get(value)?.view() ?? EMPTY_POSTINGS;
  }

  /** Label names present in the index (unsorted). */
  names(): IterableIterator<string> {
    return this._byName.keys();
  }

  /** `[value, ids]` pairs of label `name` (unsorted); empty when the name is unknown. */
  *values(name: string): IterableIterator<[string, Uint32Array]> {
    const byValue = this._values.get(name);
    if (byValue === undefined) return;
    for (const [v, p] of byValue) yield [v, p.view()];
  }

  /** Ids of series matching every matcher; all series when `matchers` is empty. */
  resolve(matchers: readonly CompiledMatcher[]): Uint32Array {
    const positives: Uint32Array[] = [];
    for (const cm of matchers) {
      if (cm.matchesEmpty) continue;
      const p = this._matching(cm);
      if (p.length === 0) return EMPTY_POSTINGS;
      positives.push(p);
    }
    let ids = positives.length > 0 ? intersectAll(positives) : this._all.view();
    for (const cm of matchers) {
      if (!cm.matchesEmpty || ids.length === 0) continue;
      ids = without(ids, this._rejectedNonEmpty(cm));
    }
    return ids;
  }

  /** Ids whose (present) value of the matcher's label satisfies it. */
  private _matching(cm: CompiledMatcher): Uint32Array {
    const m = cm.matcher;
    if (m.type === MatchType.EQ) return this.withValue(m.name, m.value);
    if (m.type === MatchType.NEQ && m.value === '') return this.withName(m.name);
    const byValue = this._values.get(m.name);
    if (byValue === undefined) return EMPTY_POSTINGS;
    const lists: Uint32Array[] = [];
    for (const [v, p] of byValue) if (cm.matches(v)) lists.push(p.view());
    return unionAll(lists);
  }

  /** Ids that have the matcher's label with a value the matcher rejects (for matchers accepting ''). */
  private _rejectedNonEmpty(cm: CompiledMatcher): Uint32Array {
    const m = cm.matcher;
    if (m.type === MatchType.EQ) return this.withName(m.name); // `l=""`: the label must be absent
    if (m.type === MatchType.NEQ) return this.withValue(m.name, m.value);
    const byValue = this._values.get(m.name);
    if (byValue === undefined) return EMPTY_POSTINGS;
    const lists: Uint32Array[] = [];
    for (const [v, p] of byValue) if (!cm.matches(v)) lists.push(p.view());
    return unionAll(lists);
  }
}
