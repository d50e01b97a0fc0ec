/**
 * Differential check of the .promqltest cases against real Prometheus, using `promtool test rules`
 * as the oracle (runs whenever `promtool` is on PATH, e.g. Debian's 2.42; required in CI; `PROMQL_ORACLE=0`
 * turns it off).
 *
 * Each eval becomes one promtool unit test with the same input series and one `promql_expr_test`
 * per step (a range eval is checked step by step) and no expected samples, so promtool prints
 * what Prometheus returned; that is compared with what our engine returns. Skipped: instant
 * queries returning a range vector (promtool evaluates only vectors and scalars), `@` and negative
 * offsets (promtool loads samples only up to the last evaluation time), and range evals that fail
 * on a whole-range check (not reproducible step by step).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatLabels, seriesKey } from '../../common/labels.js';
import type { Labels } from '../../common/types.js';
import { Engine } from '../../query/promql/engine.js';
import type { QueryValue } from '../../query/promql/value.js';
import { MemoryBackend } from '../../storage/backend/memory.js';
import { createLocalStorageClient } from '../../storage/client/local.js';
import { queryableForTenant } from '../../query/queryable.js';
import { TEST_ENGINE_OPTIONS, batchOf, floatsMatch, parsePromqlTest, parseSeriesDesc, parseTestTime, type EvalCommand, type LoadSeries } from './runner.js';

const CASES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'cases');
const hasPromtool = spawnSync('sh', ['-c', 'command -v promtool']).status === 0;
if (process.env['CI'] === 'true' && !hasPromtool) throw new Error('promtool (Debian package prometheus) is required in CI');
const enabled = process.env['PROMQL_ORACLE'] !== '0' && hasPromtool;
const workDir = enabled ? mkdtempSync(join(tmpdir(), 'promql-oracle-')) : '';

afterAll(() => {
  if (workDir !== '') rmSync(workDir, { recursive: true, force: true });
});

function fmtValue(v: number, stale: boolean): string {
  if (stale) return 'stale';
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Input series in promtool's notation, assuming one common load interval. */
function inputSeries(data: readonly LoadSeries[], intervalMs: number): string {
  return data
    .map((s) => {
      const slots: string[] = [];
      s.tsMs.forEach((t, j) => {
        const idx = t / intervalMs;
        while (slots.length < idx) slots.push('_');
        slots.push(fmtValue(s.values[j] as number, s.stale[j] === true));
      });
      return `      - series: ${JSON.stringify(formatLabels(s.labels))}\n        values: ${JSON.stringify(slots.join(' '))}`;
    })
    .join('\n');
}

/** One step of Prometheus's answer: elements by label key, or an error. */
interface OracleStep {
  readonly elements: Map<string, { labels: Labels; value: number }>;
  readonly error: string | null;
}

function parseGot(text: string): Map<string, { labels: Labels; value: number }> {
  const out = new Map<string, { labels: Labels; value: number }>();
  for (const m of text.matchAll(/(\{[^}]*\}) (\S+?)(?:, |$)/g)) {
    const { labels } = parseSeriesDesc(m[1] as string);
    const raw = m[2] as string;
    const value = raw === 'NaN' ? NaN : raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    out.set(seriesKey(labels), { labels, value });
  }
  return out;
}

/** Runs promtool for one eval and returns Prometheus's result per step time (ms). */
function oracle(cmd: EvalCommand, stepTimes: number[], name: string): Map<number, OracleStep> {
  const tests = stepTimes.map((t) => `      - expr: ${JSON.stringify(cmd.expr)}\n        eval_time: ${t / 1000}s`).join('\n');
  const yml = `rule_files: []\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n${inputSeries(cmd.data, 60_000)}\n    promql_expr_test:\n${tests}\n`;
  const path = join(workDir, `${name}.yml`);
  writeFileSync(path, yml);
  const r = spawnSync('promtool', ['test', 'rules', path], { encoding: 'utf8' });
  const text = `${r.stdout}\n${r.stderr}`;
  const steps = new Map<number, OracleStep>();
  for (const t of stepTimes) steps.set(t, { elements: new Map(), error: null });
  for (const m of text.matchAll(/expr: ".*?", time: (\S+?),(?: err: (.*)|\s*exp: .*\n\s*got: (.*))/g)) {
    const t = parseTestTime(m[1] as string);
    steps.set(t, { elements: m[3] === undefined ? new Map() : parseGot(m[3]), error: m[2] ?? null });
  }
  return steps;
}

function ours(value: QueryValue, t: number): Map<string, { labels: Labels; value: number }> {
  const out = new Map<string, { labels: Labels; value: number }>();
  if (value.type === 'scalar') out.set('', { labels: [], value: value.value });
  if (value.type === 'vector') for (const e of value.elements) out.set(seriesKey(e.labels), { labels: e.labels, value: e.value });
  if (value.type === 'matrix') {
    for (const s of value.series) {
      const j = s.tsMs.indexOf(t);
      if (j >= 0) out.set(seriesKey(s.labels), { labels: s.labels, value: s.values[j] as number });
    }
  }
  return out;
}

describe.runIf(enabled)('promtool oracle', () => {
  const engine = new Engine(TEST_ENGINE_OPTIONS);
  for (const file of readdirSync(CASES_DIR).filter((f) => f.endsWith('.promqltest')).sort()) {
    const cmds = parsePromqlTest(readFileSync(join(CASES_DIR, file), 'utf8'));
    for (const cmd of cmds) {
      it(`${file}:${cmd.line} ${cmd.expr}`, async () => {
        const backend = new MemoryBackend();
        if (cmd.data.length > 0) await backend.append('t', batchOf(cmd.data));
        const q = queryableForTenant(createLocalStorageClient(backend), 't');
        const stepTimes: number[] = [];
        for (let t = cmd.startMs; t <= cmd.endMs; t += cmd.instant ? 1 : cmd.stepMs) stepTimes.push(t);
        let value: QueryValue | null = null;
        let error: string | null = null;
        try {
          value = (cmd.instant ? await engine.instantQuery(q, cmd.expr, cmd.startMs) : await engine.rangeQuery(q, cmd.expr, cmd.startMs, cmd.endMs, cmd.stepMs)).value;
        } catch (err) {
          error = (err as Error).message;
        }
        // promtool evaluates only vector/scalar results; range-vector and string results are out of reach.
        if (value !== null && ((cmd.instant && value.type === 'matrix') || value.type === 'string')) return;
        // promtool rejects negative evaluation times, and only loads samples up to the last
        // evaluation time, so `@` and negative offsets (which read later data) are out of reach.
        if (stepTimes.some((t) => t < 0) || cmd.expr.includes('@') || /offset\s+-/.test(cmd.expr)) return;
        // A range eval that fails on a whole-range check (e.g. unary minus's label-set check)
        // cannot be reproduced step by step.
        if (!cmd.instant && error !== null) return;
        const theirs = oracle(cmd, stepTimes, `${file}-${cmd.line}`);
        const problems: string[] = [];
        for (const t of stepTimes) {
          const o = theirs.get(t) as OracleStep;
          if (error !== null || o.error !== null) {
            if ((error === null) !== (o.error === null)) problems.push(`t=${t}: ours error=${String(error)} prometheus error=${String(o.error)}`);
            else if (error !== null && o.error !== null) {
              // The two series Prometheus lists for a duplicate match group come in no fixed order.
              const a = error.replace(/\[.*\]/, '[…]');
              const b = o.error.replace(/\[.*\]/, '[…]');
              if (!a.includes(b) && !b.includes(a)) problems.push(`t=${t}: message ours ${error} | prometheus ${o.error}`);
            }
            continue;
          }
          const mine = ours(value as QueryValue, t);
          const keys = new Set([...mine.keys(), ...o.elements.keys()]);
          for (const k of keys) {
            const a = mine.get(k);
            const b = o.elements.get(k);
            if (a === undefined || b === undefined || !floatsMatch(a.value, b.value)) {
              problems.push(`t=${t} ${formatLabels((a ?? b)?.labels ?? [])}: ours ${String(a?.value)} prometheus ${String(b?.value)}`);
            }
          }
        }
        expect(problems).toEqual([]);
      });
    }
  }
});
