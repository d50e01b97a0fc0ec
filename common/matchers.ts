import { badData } from './errors.js';
import { translateGoRegex } from './go-regex.js';
import { MatchType, type Matcher } from './types.js';

/** A matcher compiled once: `matches(value)` with '' standing for an absent label. */
export interface CompiledMatcher {
  readonly matcher: Matcher;
  matches(value: string): boolean;
  /** Whether the matcher accepts an absent label (empty value); such matchers cannot drive an index lookup. */
  readonly matchesEmpty: boolean;
}

/**
 * Compiles a Prometheus regex to a fully anchored JS RegExp. Prometheus 2.x anchors as `^(?:re)$`
 * and `.` does not match a newline there (3.x changed that), so no `s` flag unless the pattern asks
 * for it. Go RE2 syntax is translated first (common/go-regex.ts).
 */
export function compileRegex(source: string): RegExp {
  try {
    const { source: body, flags } = translateGoRegex(source);
    return new RegExp(`^(?:${body})$`, flags);
  } catch (err) {
    throw badData('invalid-regex', `invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message}`);
  }
}

/** Compiles one matcher; throws a bad_data AppError for an invalid regex. */
export function compileMatcher(m: Matcher): CompiledMatcher {
  let matches: (v: string) => boolean;
  switch (m.type) {
    case MatchType.EQ:
      matches = (v) => v === m.value;
      break;
    case MatchType.NEQ:
      matches = (v) => v !== m.value;
      break;
    case MatchType.RE: {
      const re = compileRegex(m.value);
      matches = (v) => re.test(v);
      break;
    }
    case MatchType.NRE: {
      const re = compileRegex(m.value);
      matches = (v) => !re.test(v);
      break;
    }
    default:
      throw badData('invalid-matcher', `unknown matcher type ${String((m as Matcher).type)}`);
  }
  return { matcher: m, matches, matchesEmpty: matches('') };
}

/** Prometheus operator spelling of a matcher type. */
export function matchTypeSymbol(t: MatchType): string {
  return t === MatchType.EQ ? '=' : t === MatchType.NEQ ? '!=' : t === MatchType.RE ? '=~' : '!~';
}
