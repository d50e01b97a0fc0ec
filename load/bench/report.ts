/**
 * Result records of the benchmark and their rendering: one Markdown table per shape with a row per
 * system, every other system's figures followed by their ratio to promstore's, and the RESULTS.md
 * file. Pure (no I/O), so it is unit-tested.
 */
import type { QueryResult } from './queries.js';

/** Everything measured for one system on one shape. */
export interface SystemResult {
  readonly system: string;
  /** Samples sent (all requests of the workload). */
  readonly samplesSent: number;
  /** Samples of requests answered 2xx. */
  readonly samplesAcked: number;
  /** Samples the system returns for the data range (`sum(count_over_time(…))`), -1 if unknown. */
  readonly samplesStored: number;
  readonly samplesPerSec: number;
  readonly writeP50Ms: number;
  readonly writeP99Ms: number;
  /** Failed requests by status or network error. */
  readonly errors: Record<string, number>;
  /** Server CPU seconds (user + system, whole process tree) per million acknowledged samples. */
  readonly cpuSecPerMSamples: number;
  readonly peakRssBytes: number;
  readonly diskBytes: number;
  /** Compacted size when measured (Prometheus snapshot), else null. */
  readonly diskCompactedBytes: number | null;
  readonly diskNote: string;
  /** The write phase split at its middle request: first contact against steady state (see `writeHalves`). */
  readonly halves: WriteHalves;
  /** Server CPU seconds of the flush after the last write (included in `cpuSecPerMSamples`). */
  readonly flushCpuSec: number;
  /** CPU seconds of the compaction the system leaves for later (Prometheus snapshot; not in `cpuSecPerMSamples`), else null. */
  readonly compactionCpuSec: number | null;
  readonly queries: readonly QueryResult[];
  /**
   * The same queries run again after every one of them has run (same procedure): a warm process.
   * The first pass meets each query path for the first time right after a restart, which for
   * promstore means V8 has not compiled it yet; dashboards that refresh see the second.
   */
  readonly warmQueries: readonly QueryResult[];
}

/** A reading taken during the write phase. */
export interface WriteMark {
  /** Monotonic clock, ms. */
  readonly ms: number;
  /** Server CPU seconds so far (process tree). */
  readonly cpuSec: number;
  /** Samples acknowledged so far. */
  readonly samples: number;
}

/** Rate and CPU of one half of the write phase (the flush excluded). */
export interface HalfFigures {
  readonly samplesPerSec: number;
  readonly cpuSecPerMSamples: number;
}

/**
 * The write phase in two halves. The first holds everything a fresh process does once: creating
 * every series, growing its heap, and for promstore compiling its hot paths (V8's optimising
 * compiler runs on background threads and counts as CPU). The second is the steady state a server
 * that has run for a while is in. Neither includes the flush.
 */
export interface WriteHalves {
  readonly first: HalfFigures;
  readonly second: HalfFigures;
}

function between(a: WriteMark, b: WriteMark): HalfFigures {
  const samples = b.samples - a.samples;
  const secs = (b.ms - a.ms) / 1000;
  return {
    samplesPerSec: samples > 0 && secs > 0 ? samples / secs : NaN,
    cpuSecPerMSamples: samples > 0 ? (b.cpuSec - a.cpuSec) / (samples / 1e6) : NaN,
  };
}

/** The halves of a write phase from readings at its start, its middle request (null: never reached) and its end. */
export function writeHalves(start: WriteMark, mid: WriteMark | null, end: WriteMark): WriteHalves {
  if (mid === null) return { first: between(start, end), second: { samplesPerSec: NaN, cpuSecPerMSamples: NaN } };
  return { first: between(start, mid), second: between(mid, end) };
}

/** Memory-per-active-series figure of one system. */
export interface MemoryResult {
  readonly system: string;
  readonly series: number;
  readonly samplesAcked: number;
  readonly peakRssBytes: number;
  /** Peak RSS with the server idle right after start, bytes (subtracted in `bytesPerSeriesNet`). */
  readonly idleRssBytes: number;
  readonly seconds: number;
  readonly error: string;
}

/** Higher-is-better figures get `×` ratios as theirs / ours as well; the reader sees the direction in the column name. */
function ratio(theirs: number, ours: number): string {
  if (!Number.isFinite(theirs) || !Number.isFinite(ours) || ours === 0) return '';
  return ` (${(theirs / ours).toFixed(2)}×)`;
}

/** Formats `n` with `digits` decimals and thousands separators; `—` for NaN. */
export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const MIB = 1024 * 1024;

/** Bytes per acknowledged sample, NaN when nothing was acknowledged. */
export function bytesPerSample(bytes: number, samples: number): number {
  return samples > 0 ? bytes / samples : NaN;
}

function table(header: string[], rows: string[][]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

/**
 * A table cell maker over `results`: `pick(r)` with `digits` decimals, followed for every system but
 * promstore by `(theirs/ours ×)` against promstore's figure (when promstore is among them).
 */
function ratioCell(results: readonly SystemResult[]): (r: SystemResult, digits: number, pick: (x: SystemResult) => number) => string {
  const ours = results.find((r) => r.system === 'promstore');
  return (r, digits, pick) => fmt(pick(r), digits) + (ours !== undefined && r !== ours ? ratio(pick(r), pick(ours)) : '');
}

/**
 * The write/resource table of one shape: a row per system; other systems' cells carry
 * `(theirs/ours ×)` against the `promstore` row when there is one.
 */
export function writeTable(results: readonly SystemResult[]): string {
  const cell = ratioCell(results);
  const rows = results.map((r) => {
    const bps = (x: SystemResult): number => bytesPerSample(x.diskBytes, x.samplesAcked);
    const bpsC = (x: SystemResult): number => bytesPerSample(x.diskCompactedBytes ?? NaN, x.samplesAcked);
    const errs = Object.entries(r.errors).map(([k, v]) => `${k}×${v}`).join(' ');
    return [
      r.system,
      cell(r, 0, (x) => x.samplesPerSec),
      cell(r, 1, (x) => x.writeP50Ms),
      cell(r, 1, (x) => x.writeP99Ms),
      cell(r, 2, (x) => x.cpuSecPerMSamples),
      cell(r, 0, (x) => x.peakRssBytes / MIB),
      cell(r, 2, bps) + (r.diskCompactedBytes !== null ? `; compacted ${fmt(bpsC(r), 2)}` : ''),
      `${fmt(r.samplesAcked)} / ${fmt(r.samplesStored)}${errs === '' ? '' : ` (errors ${errs})`}`,
    ];
  });
  return table(['system', 'samples/s', 'write p50 ms', 'write p99 ms', 'CPU s / M samples', 'peak RSS MiB', 'disk bytes/sample', 'acked / stored samples'], rows);
}

/**
 * The write phase by halves (see `WriteHalves`): a row per system; other systems' cells carry
 * `(theirs/ours ×)` against promstore's.
 */
export function halvesTable(results: readonly SystemResult[]): string {
  const cell = ratioCell(results);
  const rows = results.map((r) => [
    r.system,
    cell(r, 0, (x) => x.halves.first.samplesPerSec),
    cell(r, 2, (x) => x.halves.first.cpuSecPerMSamples),
    cell(r, 0, (x) => x.halves.second.samplesPerSec),
    cell(r, 2, (x) => x.halves.second.cpuSecPerMSamples),
    fmt(r.flushCpuSec, 2) + (r.compactionCpuSec !== null ? `; snapshot ${fmt(r.compactionCpuSec, 2)}` : ''),
  ]);
  return table(['system', '1st half samples/s', '1st half CPU s / M', '2nd half samples/s', '2nd half CPU s / M', 'flush CPU s'], rows);
}

/** Which pass of queries a table shows. */
export type QueryPass = (r: SystemResult) => readonly QueryResult[];
const FIRST_PASS: QueryPass = (r) => r.queries;

/** Median query latencies of `pass` (default the first), ms: a row per system, a column per query, ratios against promstore. */
export function queryTable(results: readonly SystemResult[], pass: QueryPass = FIRST_PASS): string {
  const first = results[0];
  if (first === undefined) return '';
  const names = pass(first).map((q) => q.name);
  const ours = results.find((r) => r.system === 'promstore');
  const rows = results.map((r) =>
    [r.system].concat(
      names.map((n) => {
        const q = pass(r).find((x) => x.name === n);
        if (q === undefined) return '—';
        if (q.error !== '') return 'error';
        const o = ours === undefined ? undefined : pass(ours).find((x) => x.name === n);
        return fmt(q.medianMs, 1) + (ours !== undefined && r !== ours && o !== undefined ? ratio(q.medianMs, o.medianMs) : '');
      }),
    ),
  );
  return table(['system'].concat(names), rows);
}

/** Result-series counts per query and system, with the names of queries where systems disagree. */
export function queryAgreement(results: readonly SystemResult[]): string[] {
  const first = results[0];
  if (first === undefined) return [];
  const out: string[] = [];
  for (const q of first.queries) {
    const counts = results.map((r) => r.queries.find((x) => x.name === q.name)?.resultSeries ?? -1);
    if (new Set(counts).size > 1) out.push(`${q.name}: result series differ (${results.map((r, i) => `${r.system} ${counts[i]}`).join(', ')})`);
  }
  return out;
}

/** Query failures of either pass, one line each. */
export function queryErrors(results: readonly SystemResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    for (const q of r.queries) if (q.error !== '') out.push(`${r.system} ${q.name}: ${q.error}`);
    for (const q of r.warmQueries) if (q.error !== '') out.push(`${r.system} ${q.name} (second pass): ${q.error}`);
  }
  return out;
}

/** The memory-per-active-series table. */
export function memoryTable(results: readonly MemoryResult[]): string {
  const rows = results.map((m) => {
    const peak = m.peakRssBytes;
    return [
      m.system,
      fmt(m.series),
      m.error === '' ? fmt(m.samplesAcked) : `error: ${m.error.slice(0, 80)}`,
      fmt(peak / MIB, 0),
      fmt(m.idleRssBytes / MIB, 0),
      fmt(peak / m.series, 0),
      fmt((peak - m.idleRssBytes) / m.series, 0),
      fmt(m.seconds, 1),
    ];
  });
  return table(['system', 'active series', 'samples acked', 'peak RSS MiB', 'idle RSS MiB', 'bytes/series (peak)', 'bytes/series (peak − idle)', 'write s'], rows);
}

/** Median of numbers (NaN when none); the mean of the middle two for an even count. */
export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/**
 * One system's rounds of a shape (same workload, see `--rounds`) as one result: the median of every
 * figure, query by query. Counts keep the worst round (fewest acknowledged and stored samples, all
 * errors added up), so a round that lost samples is not hidden by a median.
 */
export function medianOfRounds(rounds: readonly SystemResult[]): SystemResult {
  const first = rounds[0];
  if (first === undefined) throw new Error('medianOfRounds: no rounds');
  if (rounds.length === 1) return first;
  const of = (f: (r: SystemResult) => number): number => median(rounds.map(f));
  const errors: Record<string, number> = {};
  for (const r of rounds) for (const [k, n] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + n;
  const compacted = rounds.map((r) => r.diskCompactedBytes).filter((x): x is number => x !== null);
  const snapshots = rounds.map((r) => r.compactionCpuSec).filter((x): x is number => x !== null);
  return {
    system: first.system,
    samplesSent: first.samplesSent,
    samplesAcked: Math.min(...rounds.map((r) => r.samplesAcked)),
    samplesStored: Math.min(...rounds.map((r) => r.samplesStored)),
    samplesPerSec: of((r) => r.samplesPerSec),
    writeP50Ms: of((r) => r.writeP50Ms),
    writeP99Ms: of((r) => r.writeP99Ms),
    errors,
    cpuSecPerMSamples: of((r) => r.cpuSecPerMSamples),
    peakRssBytes: of((r) => r.peakRssBytes),
    diskBytes: of((r) => r.diskBytes),
    diskCompactedBytes: compacted.length > 0 ? median(compacted) : null,
    diskNote: first.diskNote,
    halves: {
      first: { samplesPerSec: of((r) => r.halves.first.samplesPerSec), cpuSecPerMSamples: of((r) => r.halves.first.cpuSecPerMSamples) },
      second: { samplesPerSec: of((r) => r.halves.second.samplesPerSec), cpuSecPerMSamples: of((r) => r.halves.second.cpuSecPerMSamples) },
    },
    flushCpuSec: of((r) => r.flushCpuSec),
    compactionCpuSec: snapshots.length > 0 ? median(snapshots) : null,
    queries: medianQueries(rounds, FIRST_PASS),
    warmQueries: medianQueries(rounds, (r) => r.warmQueries),
  };
}

/** Per query of `pass`: the median over rounds, the first round's series count, the first error. */
function medianQueries(rounds: readonly SystemResult[], pass: QueryPass): QueryResult[] {
  const first = rounds[0];
  if (first === undefined) return [];
  return pass(first).map((q) => {
    const runs = rounds.map((r) => pass(r).find((x) => x.name === q.name));
    return {
      name: q.name,
      medianMs: median(runs.map((x) => x?.medianMs ?? NaN)),
      resultSeries: q.resultSeries,
      error: runs.find((x) => x !== undefined && x.error !== '')?.error ?? '',
    };
  });
}

/** Ingest rate and CPU of every system in every round, one line per round (what the medians hide). */
export function roundLines(byRound: readonly (readonly SystemResult[])[]): string[] {
  return byRound.map(
    (results, i) =>
      `round ${i + 1}: ` + results
        .map((r) => `${r.system} ${fmt(r.samplesPerSec)} samples/s, ${fmt(r.cpuSecPerMSamples, 2)} CPU s / M (2nd half ${fmt(r.halves.second.cpuSecPerMSamples, 2)})`)
        .join('; '),
  );
}

/** Whether every system acknowledged and stored the same number of samples, as a sentence. */
export function acceptanceLine(results: readonly SystemResult[]): string {
  const sent = results[0]?.samplesSent ?? 0;
  const allAcked = results.every((r) => r.samplesAcked === sent);
  const allStored = results.every((r) => r.samplesStored === sent);
  if (allAcked && allStored) return `All systems acknowledged and return all ${fmt(sent)} samples (equal counts).`;
  return `Counts differ: sent ${fmt(sent)}; ${results.map((r) => `${r.system} acked ${fmt(r.samplesAcked)}, stored ${fmt(r.samplesStored)}`).join('; ')}.`;
}

/**
 * The machine-section line naming Node and the commit. `commit` is empty outside a git checkout
 * (a copy of dist/ run elsewhere): say so rather than print an empty commit.
 */
export function commitLine(nodeVersion: string, commit: string, porcelain: string): string {
  if (commit === '') return `- Node ${nodeVersion}; commit unknown (not run from a git checkout: name it by hand)`;
  return `- Node ${nodeVersion}; commit \`${commit}\`${porcelain === '' ? '' : ' (with uncommitted changes)'}`;
}
