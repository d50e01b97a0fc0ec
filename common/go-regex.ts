/**
 * Translates Go RE2 syntax (what Prometheus label matchers use) into an equivalent JavaScript
 * RegExp source, or says why it cannot. Only the differences that matter in practice are handled:
 *
 * - POSIX classes inside brackets (`[[:digit:]_]`) have no JS spelling: expanded to ranges;
 * - leading flag groups `(?i)`, `(?s)`, `(?is)`: JS (Node 20) has no inline flags, so they become
 *   RegExp flags; flags anywhere else, `(?U)` and `(?m)` are reported as unsupported;
 * - `(?P<name>…)` is Go's named group: JS spells it `(?<name>…)`;
 * - `\A` and `\z` anchor the text (there is no multi-line mode here): `^` and `$`;
 * - `\Q…\E` quotes literally;
 * - JS-only constructs that RE2 rejects (look-around, back-references) are errors, so we reject what
 *   Prometheus rejects instead of matching something it would not.
 */

/** A translated pattern: JS source and flags (subset of `is`). */
export interface TranslatedRegex {
  readonly source: string;
  readonly flags: string;
}

/** Why a pattern cannot be used; the message is shown to the user. */
export class RegexSyntaxError extends Error {}

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

function escapeLiteral(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** Translates a Go regex; throws RegexSyntaxError for syntax JS cannot express or RE2 rejects. */
export function translateGoRegex(pattern: string): TranslatedRegex {
  let flags = '';
  let i = 0;
  // Leading flag groups, possibly several: (?i)(?s) or (?is).
  for (;;) {
    const m = /^\(\?([a-zA-Z]+)\)/.exec(pattern.slice(i));
    if (m === null) break;
    for (const f of m[1] as string) {
      if (f === 'i' || f === 's') {
        if (!flags.includes(f)) flags += f;
      } else {
        throw new RegexSyntaxError(`flag (?${f}) is not supported`);
      }
    }
    i += m[0].length;
  }
  let out = '';
  let inClass = false;
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) throw new RegexSyntaxError('trailing backslash at end of expression');
      if (next === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const literal = end < 0 ? pattern.slice(i + 2) : pattern.slice(i + 2, end);
        out += escapeLiteral(literal);
        i = end < 0 ? pattern.length : end + 2;
        continue;
      }
      if (!inClass && next === 'A') {
        out += '^';
      } else if (!inClass && next === 'z') {
        out += '$';
      } else if (!inClass && /[1-9]/.test(next)) {
        throw new RegexSyntaxError(`invalid escape sequence: \\${next} (back-references are not supported)`);
      } else {
        out += c + next;
      }
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === '[' && pattern[i + 1] === ':') {
        const end = pattern.indexOf(':]', i + 2);
        const name = end < 0 ? '' : pattern.slice(i + 2, end);
        const expansion = POSIX_CLASSES[name];
        if (expansion !== undefined) {
          out += expansion;
          i = end + 2;
          continue;
        }
        if (name.startsWith('^')) throw new RegexSyntaxError(`negated class [:${name}:] is not supported`);
        throw new RegexSyntaxError(`invalid character class range: [:${name}:]`);
      }
      if (c === ']') inClass = false;
      out += c === '[' ? '\\[' : c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      i++;
      // A ']' (after an optional '^') right after '[' is a literal in RE2.
      if (pattern[i] === '^') {
        out += '^';
        i++;
      }
      if (pattern[i] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2);
      if (rest.startsWith(':')) {
        out += '(?:';
        i += 3;
        continue;
      }
      if (rest.startsWith('P<')) {
        out += '(?<';
        i += 4;
        continue;
      }
      if (/^(=|!|<=|<!)/.test(rest)) throw new RegexSyntaxError('invalid or unsupported Perl syntax: look-around');
      throw new RegexSyntaxError(`invalid or unsupported Perl syntax: (?${rest.slice(0, 2)}`);
    }
    out += c;
    i++;
  }
  return { source: out, flags };
}
