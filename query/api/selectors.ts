/**
 * `match[]` parameters → matcher sets, with the PromQL parser (Prometheus `parseMatchersParam`).
 */
import { badData, clip } from '../../common/errors.js';
import { compileMatcher } from '../../common/matchers.js';
import type { Matcher } from '../../common/types.js';
import { parseExpr } from '../promql/parser.js';

/**
 * Parses each `match[]` value as a series selector (`up`, `{job="x"}`, `up{job=~"a|b"}`), in
 * order. Throws bad_data on a parse error (the parser's message, as Prometheus returns it), on an
 * expression that is not a plain selector (no offset/@), and on a selector whose matchers all
 * match the empty string (it would select every series).
 */
export function parseMatcherSets(texts: readonly string[]): Matcher[][] {
  const sets: Matcher[][] = [];
  for (const text of texts) {
    const expr = parseExpr(text);
    if (expr.kind !== 'VectorSelector' || expr.offsetMs !== 0 || expr.at !== null) {
      throw badData('invalid-match', `invalid parameter "match[]": ${JSON.stringify(clip(text))} is not a series selector`);
    }
    // Compiling also surfaces invalid regexes as bad_data before any storage call.
    if (expr.matchers.map(compileMatcher).every((m) => m.matchesEmpty)) {
      throw badData('invalid-match', 'match[] must contain at least one non-empty matcher');
    }
    sets.push([...expr.matchers]);
  }
  return sets;
}
