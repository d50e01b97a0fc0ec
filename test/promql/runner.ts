/**
 * Runner for `*.promqltest` files (format: test/promql/FORMAT.md). `parsePromqlTest` turns a file
 * into commands; `registerPromqlTests` makes one vitest case per `eval*` command, named
 * `file:line expr`, and runs it once per backend factory against the data loaded before it.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { expect, it } from 'vitest';
import { AppError } from '../../common/errors.js';
import { compareLabels, formatLabels, labelsFromRecord, seriesKey, sortLabels } from '../../common/labels.js';
import { parseDurationMs } from '../../common/duration.js';
import { setStaleNaNAt, type Labels, type SampleBatch } from '../../common/types.js';
import { Engine, type EngineOptions } from '../../query/promql/engine.js';
import type { QueryValue } from '../../query/promql/value.js';
import type { Queryable } from '../../query/queryable.js';

/** One loaded series: labels and its samples (`stale` marks a staleness marker). */
export interface LoadSeries {
  readonly labels: Labels;
  readonly tsMs: number[];
  readonly values: number[];
  readonly stale: boolean[];
}

/** Expected value at one point: a number, or absent. */
type Expected = number | null;

/** One expected series (range, or instant matrix: `points` carry their own timestamps). */
interface ExpectedSeries {
  readonly labels: Labels;
  readonly values: Expected[];
  /** Only for raw range-vector results of instant queries. */
  readonly tsMs: number[] | null;
}

/** A parsed `eval*` command. */
export interface EvalCommand {
  readonly line: number;
  readonly expr: string;
  readonly instant: boolean;
  readonly startMs: number;
  readonly endMs: number;
  readonly stepMs: number;
  readonly fail: boolean;
  readonly ordered: boolean;
  readonly errorSubstring: string | null;
  readonly errorKind: string | null;
  /** Expected scalar result (instant only) or null. */
  readonly scalar: number | null;
  readonly series: ExpectedSeries[];
  /** Series loaded when this eval runs. */
  readonly data: readonly LoadSeries[];
}

/** Makes a Queryable holding `data` (one per backend under test). */
export interface BackendFactory {
  readonly name: string;
  create(data: readonly LoadSeries[]): Promise<Queryable>;
}

/** Parses a time like `5m`, `1h30m`, `0`, `-5m` or plain seconds (`100`, `1.5`) into ms. */
export function parseTestTime(text: string): number {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const neg = text.startsWith('-');
  const ms = parseDurationMs(neg ? text.slice(1) : text);
  if (ms === null) throw new Error(`bad time ${JSON.stringify(text)}`);
  return neg ? -ms : ms;
}

function parseNumber(tok: string): number {
  switch (tok) {
    case 'Inf':
    case '+Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'NaN':
      return NaN;
    default: {
      const v = Number(tok);
      if (tok === '' || Number.isNaN(v)) throw new Error(`bad number ${JSON.stringify(tok)}`);
      return v;
    }
  }
}

/** A value token of a series line: number, `_`, `stale`, or `a+bxN` / `a-bxN` / `axN` / `_xN` expansions. */
type ValueTok = number | null | 'stale';

function expandValues(tokens: readonly string[]): ValueTok[] {
  const out: ValueTok[] = [];
  for (const tok of tokens) {
    if (tok === '_') out.push(null);
    else if (tok === 'stale') out.push('stale');
    else {
      const m = /^(_|[-+]?(?:[0-9.]+(?:e[-+]?[0-9]+)?|Inf|NaN))(?:([-+])([0-9.]+(?:e[-+]?[0-9]+)?))?x([0-9]+)$/.exec(tok);
      if (m === null) {
        out.push(parseNumber(tok));
        continue;
      }
      const count = Number(m[4]) + 1;
      if (m[1] === '_') {
        for (let k = 0; k < count; k++) out.push(null);
        continue;
      }
      const start = parseNumber(m[1] as string);
      const delta = m[3] === undefined ? 0 : (m[2] === '-' ? -1 : 1) * Number(m[3]);
      for (let k = 0; k < count; k++) out.push(start + k * delta);
    }
  }
  return out;
}

/** Splits `metric{a="b", c="d"} rest…` into labels and the rest of the line. */
export function parseSeriesDesc(text: string): { labels: Labels; rest: string } {
  const s = text.trim();
  const m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(s);
  const record: Record<string, string> = {};
  let pos = 0;
  if (m !== null) {
    record['__name__'] = m[0];
    pos = m[0].length;
  }
  if (s[pos] === '{') {
    pos++;
    for (;;) {
      while (s[pos] === ' ' || s[pos] === ',') pos++;
      if (s[pos] === '}') {
        pos++;
        break;
      }
      const nm = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(s.slice(pos));
      if (nm === null) throw new Error(`bad label set in ${JSON.stringify(text)}`);
      record[nm[1] as string] = JSON.parse(`"${nm[2] as string}"`) as string;
      pos += nm[0].length;
    }
  } else if (m === null) {
    throw new Error(`bad series description ${JSON.stringify(text)}`);
  }
  return { labels: sortLabels(labelsFromRecord(record)), rest: s.slice(pos).trim() };
}

/** Parses a whole `.promqltest` file. */
export function parsePromqlTest(text: string): EvalCommand[] {
  const lines = text.split('\n');
  const cmds: EvalCommand[] = [];
  let data: LoadSeries[] = [];
  let k = 0;
  const isBody = (l: string | undefined): boolean => l !== undefined && /^\s+\S/.test(l) && !/^\s*#/.test(l);
  while (k < lines.length) {
    const raw = lines[k] as string;
    const lineNo = k + 1;
    k++;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (/^\s/.test(raw)) throw new Error(`line ${lineNo}: unexpected indented line`);
    if (line === 'clear') {
      data = [];
      continue;
    }
    const load = /^load\s+(\S+)$/.exec(line);
    if (load !== null) {
      const stepMs = parseTestTime(load[1] as string);
      const added: LoadSeries[] = [];
      while (k < lines.length && (isBody(lines[k]) || /^\s*#/.test(lines[k] as string))) {
        const body = (lines[k] as string).trim();
        k++;
        if (body.startsWith('#')) continue;
        const { labels, rest } = parseSeriesDesc(body);
        const vals = expandValues(rest.split(/\s+/).filter((t) => t !== ''));
        const series: LoadSeries = { labels, tsMs: [], values: [], stale: [] };
        vals.forEach((v, idx) => {
          if (v === null) return;
          series.tsMs.push(idx * stepMs);
          series.values.push(v === 'stale' ? 0 : v);
          series.stale.push(v === 'stale');
        });
        added.push(series);
      }
      data = [...data, ...added];
      continue;
    }
    const ev = /^(eval|eval_fail|eval_ordered)\s+(instant\s+at\s+(\S+)|range\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+))\s+(.+)$/.exec(line);
    if (ev === null) throw new Error(`line ${lineNo}: cannot parse ${JSON.stringify(line)}`);
    const instant = ev[3] !== undefined;
    const startMs = parseTestTime((instant ? ev[3] : ev[4]) as string);
    const endMs = instant ? startMs : parseTestTime(ev[5] as string);
    const stepMs = instant ? 0 : parseTestTime(ev[6] as string);
    let errorSubstring: string | null = null;
    let errorKind: string | null = null;
    let scalar: number | null = null;
    const series: ExpectedSeries[] = [];
    while (k < lines.length && (isBody(lines[k]) || /^\s*#/.test(lines[k] as string))) {
      const body = (lines[k] as string).trim();
      k++;
      if (body.startsWith('#')) continue;
      const err = /^error:\s*(.*)$/.exec(body);
      if (err !== null) {
        errorSubstring = err[1] as string;
        continue;
      }
      const kind = /^kind:\s*(\S+)$/.exec(body);
      if (kind !== null) {
        errorKind = kind[1] as string;
        continue;
      }
      if (!body.startsWith('{') && !/^[a-zA-Z_:]/.test(body) || /^(Inf|NaN)$/.test(body)) {
        scalar = parseNumber(body);
        continue;
      }
      const { labels, rest } = parseSeriesDesc(body);
      const toks = rest.split(/\s+/).filter((t) => t !== '');
      if (toks.some((t) => t.includes('@'))) {
        const values: Expected[] = [];
        const tsMs: number[] = [];
        for (const t of toks) {
          const [v, at] = t.split('@') as [string, string];
          values.push(parseNumber(v));
          tsMs.push(parseTestTime(at));
        }
        series.push({ labels, values, tsMs });
      } else {
        const values = expandValues(toks).map((v) => (v === 'stale' ? null : v));
        series.push({ labels, values, tsMs: null });
      }
    }
    cmds.push({
      line: lineNo,
      expr: ev[7] as string,
      instant,
      startMs,
      endMs,
      stepMs,
      fail: ev[1] === 'eval_fail',
      ordered: ev[1] === 'eval_ordered',
      errorSubstring,
      errorKind,
      scalar,
      series,
      data,
    });
  }
  return cmds;
}

/** Whether two floats match: relative 1e-6 (absolute near zero), NaN equals NaN, infinities exactly. */
export function floatsMatch(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b), 1e-9);
}

function fmt(v: number | null): string {
  return v === null ? '_' : Number.isNaN(v) ? 'NaN' : String(v);
}

/** Renders a result in the expected-lines notation (for readable failure diffs). */
function renderResult(value: QueryValue, cmd: EvalCommand): string[] {
  switch (value.type) {
    case 'scalar':
      return [fmt(value.value)];
    case 'string':
      return [JSON.stringify(value.value)];
    case 'vector':
      return value.elements.map((e) => `${formatLabels(e.labels)} ${fmt(e.value)}`);
    case 'matrix':
      return value.series.map((s) => {
        if (cmd.instant) return `${formatLabels(s.labels)} ${[...s.values].map((v, i) => `${fmt(v)}@${(s.tsMs[i] as number) / 1000}`).join(' ')}`;
        const n = Math.floor((cmd.endMs - cmd.startMs) / cmd.stepMs) + 1;
        const row: string[] = new Array<string>(n).fill('_');
        s.tsMs.forEach((t, i) => {
          row[Math.round((t - cmd.startMs) / cmd.stepMs)] = fmt(s.values[i] as number);
        });
        return `${formatLabels(s.labels)} ${row.join(' ')}`;
      });
  }
}

function renderExpected(cmd: EvalCommand): string[] {
  if (cmd.scalar !== null) return [fmt(cmd.scalar)];
  return cmd.series.map((s) => {
    if (s.tsMs !== null) return `${formatLabels(s.labels)} ${s.values.map((v, i) => `${fmt(v)}@${(s.tsMs?.[i] as number) / 1000}`).join(' ')}`;
    return `${formatLabels(s.labels)} ${s.values.map(fmt).join(' ')}`;
  });
}

/** Returns null when `value` matches the expectation of `cmd`, else a description of the mismatch. */
export function checkResult(value: QueryValue, cmd: EvalCommand): string | null {
  const mismatch = (why: string): string => `${why}\nexpected:\n  ${renderExpected(cmd).join('\n  ')}\ngot (${value.type}):\n  ${renderResult(value, cmd).join('\n  ')}`;
  if (cmd.scalar !== null) {
    if (value.type !== 'scalar') return mismatch('expected a scalar');
    return floatsMatch(value.value, cmd.scalar) ? null : mismatch('scalar differs');
  }
  if (value.type === 'scalar' || value.type === 'string') return cmd.series.length === 0 ? mismatch('expected no result') : mismatch('expected series');
  if (value.type === 'vector') {
    if (!cmd.instant) return mismatch('range query returned a vector');
    if (value.elements.length !== cmd.series.length) return mismatch('element count differs');
    const byKey = new Map(cmd.series.map((s, i) => [seriesKey(s.labels), i]));
    for (let i = 0; i < value.elements.length; i++) {
      const e = value.elements[i] as (typeof value.elements)[number];
      const idx = byKey.get(seriesKey(e.labels));
      if (idx === undefined) return mismatch(`unexpected element ${formatLabels(e.labels)}`);
      if (cmd.ordered && idx !== i) return mismatch('order differs');
      const exp = cmd.series[idx] as ExpectedSeries;
      if (exp.values.length !== 1 || exp.values[0] === null || !floatsMatch(e.value, exp.values[0] as number)) return mismatch(`value of ${formatLabels(e.labels)} differs`);
    }
    return null;
  }
  // Matrix.
  if (value.series.length !== cmd.series.length) return mismatch('series count differs');
  for (let i = 1; i < value.series.length; i++) {
    if (compareLabels((value.series[i - 1] as { labels: Labels }).labels, (value.series[i] as { labels: Labels }).labels) >= 0) return mismatch('matrix not sorted by labels');
  }
  const byKey = new Map(cmd.series.map((s) => [seriesKey(s.labels), s]));
  for (const s of value.series) {
    const exp = byKey.get(seriesKey(s.labels));
    if (exp === undefined) return mismatch(`unexpected series ${formatLabels(s.labels)}`);
    if (cmd.instant) {
      if (exp.tsMs === null || exp.tsMs.length !== s.tsMs.length) return mismatch(`samples of ${formatLabels(s.labels)} differ`);
      for (let j = 0; j < s.tsMs.length; j++) {
        if (s.tsMs[j] !== exp.tsMs[j] || !floatsMatch(s.values[j] as number, exp.values[j] as number)) return mismatch(`samples of ${formatLabels(s.labels)} differ`);
      }
      continue;
    }
    const n = Math.floor((cmd.endMs - cmd.startMs) / cmd.stepMs) + 1;
    const got: (number | null)[] = new Array<number | null>(n).fill(null);
    s.tsMs.forEach((t, j) => {
      got[Math.round((t - cmd.startMs) / cmd.stepMs)] = s.values[j] as number;
    });
    for (let j = 0; j < n; j++) {
      const e = exp.values[j] ?? null;
      const g = got[j] ?? null;
      if (e === null || g === null ? e !== g : !floatsMatch(g, e)) return mismatch(`step ${j} of ${formatLabels(s.labels)} differs`);
    }
  }
  return null;
}

/** Builds a SampleBatch holding `data` (staleness markers written bit-exact). */
export function batchOf(data: readonly LoadSeries[]): SampleBatch {
  let total = 0;
  for (const s of data) total += s.tsMs.length;
  const sampleStart = new Uint32Array(data.length + 1);
  const tsMs = new Float64Array(total);
  const values = new Float64Array(total);
  let k = 0;
  data.forEach((s, i) => {
    sampleStart[i] = k;
    for (let j = 0; j < s.tsMs.length; j++) {
      tsMs[k] = s.tsMs[j] as number;
      if (s.stale[j] === true) setStaleNaNAt(values, k);
      else values[k] = s.values[j] as number;
      k++;
    }
  });
  sampleStart[data.length] = k;
  return { series: data.map((s) => s.labels), sampleStart, tsMs, values };
}

/** Engine settings of the data-driven tests (Prometheus defaults; generous budget). */
export const TEST_ENGINE_OPTIONS: EngineOptions = { lookbackDeltaMs: 5 * 60_000, maxSamples: 50_000_000, timeoutMs: 10_000, defaultEvalIntervalMs: 60_000 };

/** Registers one vitest case per eval command of `path` for each backend factory. */
export function registerPromqlTests(path: string, backends: readonly BackendFactory[], engine = new Engine(TEST_ENGINE_OPTIONS)): void {
  const cmds = parsePromqlTest(readFileSync(path, 'utf8'));
  const file = basename(path);
  for (const backend of backends) {
    // One Queryable per distinct data state, built on first use.
    const cache = new Map<readonly LoadSeries[], Promise<Queryable>>();
    const queryableFor = (data: readonly LoadSeries[]): Promise<Queryable> => {
      let q = cache.get(data);
      if (q === undefined) {
        q = backend.create(data);
        cache.set(data, q);
      }
      return q;
    };
    for (const cmd of cmds) {
      const name = `${backends.length > 1 ? `[${backend.name}] ` : ''}${file}:${cmd.line} ${cmd.expr}`;
      it(name, async () => {
        const q = await queryableFor(cmd.data);
        const run = (): Promise<{ value: QueryValue }> =>
          cmd.instant ? engine.instantQuery(q, cmd.expr, cmd.startMs) : engine.rangeQuery(q, cmd.expr, cmd.startMs, cmd.endMs, cmd.stepMs);
        if (cmd.fail) {
          let caught: unknown = null;
          try {
            await run();
          } catch (err) {
            caught = err;
          }
          expect(caught, 'expected the query to fail').toBeInstanceOf(AppError);
          const err = caught as AppError;
          if (cmd.errorSubstring !== null) expect(err.message).toContain(cmd.errorSubstring);
          if (cmd.errorKind !== null) expect(err.kind).toBe(cmd.errorKind);
          return;
        }
        const { value } = await run();
        const problem = checkResult(value, cmd);
        expect(problem, problem ?? '').toBeNull();
      });
    }
  }
}
