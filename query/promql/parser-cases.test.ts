import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/errors.js';
import { toSexpr } from '../../test/promql/parser-sexpr.js';
import type { Expr } from './ast.js';
import { parseExpr } from './parser.js';
import { printExpr } from './printer.js';

/** One case of test/promql/parser-cases.txt. */
interface Case {
  readonly name: string;
  readonly line: number;
  readonly input: string;
  readonly expected: string;
}

const FILE = fileURLToPath(new URL('../../test/promql/parser-cases.txt', import.meta.url));

/** `# name` / input lines / `==>` / expected line(s) until a blank line; `##` lines are comments. */
function loadCases(text: string): Case[] {
  const lines = text.split('\n');
  const cases: Case[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line === '' || line.startsWith('##')) {
      i++;
      continue;
    }
    if (!line.startsWith('# ')) throw new Error(`parser-cases.txt:${i + 1}: expected "# name", got ${JSON.stringify(line)}`);
    const start = i + 1;
    const name = line.slice(2);
    const input: string[] = [];
    i++;
    while (i < lines.length && lines[i] !== '==>') input.push(lines[i++] as string);
    if (i >= lines.length) throw new Error(`parser-cases.txt:${start}: case ${JSON.stringify(name)} has no "==>"`);
    i++;
    const expected: string[] = [];
    while (i < lines.length && lines[i] !== '') expected.push(lines[i++] as string);
    cases.push({ name, line: start, input: input.join('\n'), expected: expected.join('\n') });
  }
  return cases;
}

const cases = loadCases(readFileSync(FILE, 'utf8'));
const valid = cases.filter((c) => !c.expected.startsWith('error: '));

describe('parser-cases.txt', () => {
  it('has enough cases, all uniquely named', () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases)('$line: $name', ({ input, expected }) => {
    if (expected.startsWith('error: ')) {
      let thrown: unknown;
      try {
        parseExpr(input);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(AppError);
      const appErr = thrown as AppError;
      expect({ kind: appErr.kind, code: appErr.code, message: appErr.message }).toEqual({
        kind: 'bad_data',
        code: 'promql-parse',
        message: expected.slice('error: '.length),
      });
    } else {
      expect(toSexpr(parseExpr(input))).toBe(expected);
    }
  });
});

describe('print → parse round trip', () => {
  it.each(valid)('$line: $name', ({ input }) => {
    const expr = parseExpr(input);
    const printed = printExpr(expr);
    const again = parseExpr(printed);
    // Compared with toEqual on the trees themselves (not JSON) so that -0, NaN and Inf count.
    expect(stripPos(again)).toEqual(stripPos(expr));
    // Printing is canonical: a second round prints the same text.
    expect(printExpr(again)).toBe(printed);
  });
});

/** A copy of the tree without `pos` fields, for comparing trees parsed from different texts. */
function stripPos(e: unknown): unknown {
  if (Array.isArray(e)) return e.map(stripPos);
  if (e !== null && typeof e === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) if (k !== 'pos') out[k] = stripPos(v);
    return out;
  }
  return e;
}

