/**
 * JSON rendering of query results, byte-compatible with Prometheus (`util/jsonutil/marshal.go`).
 * Written by string building: one string per response, no intermediate object per sample.
 */
import type { Labels, TimeMs } from '../../common/types.js';
import type { QueryValue } from '../promql/value.js';

/**
 * Formats a float64 sample value as Prometheus does (Go `strconv.AppendFloat(v, 'f' | 'e', -1, 64)`):
 * shortest round-trip digits; plain notation when `1e-6 <= |v| < 1e21` or v is ±0, exponent
 * notation otherwise with at least two exponent digits (`1e-07`, `1.5e+21`); `NaN`, `+Inf`,
 * `-Inf`; negative zero is `-0`. Returns the text without quotes.
 */
export function formatValue(v: number): string {
  // JS `String(v)` switches to exponent form at exactly the same thresholds as Prometheus and
  // prints the same shortest digits; only specials, -0 and exponent padding differ.
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  // Fast path for small integers (counters, gauges, flags): V8 converts these from its cache.
  if ((v | 0) === v) return String(v);
  if (v !== v) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  // JS writes `e-7` / `e+21`; Go pads the exponent to two digits: `e-07`.
  if (s.length - e === 3) return `${s.slice(0, e + 2)}0${s.slice(e + 2)}`;
  return s;
}

/**
 * Formats integer ms as a JSON number of Unix seconds: whole seconds without a decimal point,
 * otherwise exactly three decimals (`1435781430.500`, `1435781430.005`); negative times are `-`
 * followed by the absolute value (`-0.500`). Non-integer input is rounded to ms first.
 */
export function formatTimestamp(tMs: TimeMs): string {
  let t = Number.isInteger(tMs) ? tMs : Math.round(tMs);
  let sign = '';
  if (t < 0) {
    sign = '-';
    t = -t;
  }
  const frac = t % 1000;
  const secs = (t - frac) / 1000;
  if (frac === 0) return `${sign}${secs}`;
  const pad = frac < 10 ? '00' : frac < 100 ? '0' : '';
  return `${sign}${secs}.${pad}${frac}`;
}

// Go's encoding/json escapes these (HTML safety and JS line separators); JSON.stringify does not.
const GO_EXTRA_ESCAPES = /[<>&\u2028\u2029]/g;
const GO_EXTRA_ESCAPE_MAP: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};
const NEEDS_GO_ESCAPE = /[<>&\u2028\u2029]/;

/**
 * A JSON string literal (with quotes) for `s`, escaped as Go's `encoding/json` does, which also
 * escapes `<`, `>`, `&`, U+2028 and U+2029.
 */
export function jsonString(s: string): string {
  // Fast path: label names and values are almost always printable ASCII that needs no escape,
  // and scanning them is ~3x cheaper than JSON.stringify plus the regex test (measured on the
  // label sets of a 1,250-series instant query).
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26) return escapedJsonString(s);
  }
  return `"${s}"`;
}

function escapedJsonString(s: string): string {
  const out = JSON.stringify(s);
  return NEEDS_GO_ESCAPE.test(out) ? out.replace(GO_EXTRA_ESCAPES, (c) => GO_EXTRA_ESCAPE_MAP[c] as string) : out;
}

/** A label set as a JSON object `{"name":"value",…}` in label order (sorted by name). */
export function formatLabelsJson(labels: Labels): string {
  if (labels.length === 0) return '{}';
  let out = '{';
  for (let i = 0; i < labels.length; i += 2) {
    if (i > 0) out += ',';
    out += `${jsonString(labels[i] as string)}:${jsonString(labels[i + 1] as string)}`;
  }
  return `${out}}`;
}

/** A JSON array of strings, e.g. label names or values: `["a","b"]`. */
export function formatStringArrayJson(items: readonly string[]): string {
  if (items.length === 0) return '[]';
  let out = '[';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ',';
    out += jsonString(items[i] as string);
  }
  return `${out}]`;
}

/** A JSON array of label-set objects (the `/series` payload). */
export function formatSeriesJson(series: readonly Labels[]): string {
  if (series.length === 0) return '[]';
  let out = '[';
  for (let i = 0; i < series.length; i++) {
    if (i > 0) out += ',';
    out += formatLabelsJson(series[i] as Labels);
  }
  return `${out}]`;
}

/**
 * The `data` object of /query and /query_range: `{"resultType":…,"result":…}`, shapes as in
 * http-api.md §4 (vector elements `{"metric","value"}`, matrix series `{"metric","values"}`,
 * scalar and string `[t,"v"]`).
 */
export function formatQueryData(value: QueryValue): string {
  switch (value.type) {
    case 'vector': {
      const ts = formatTimestamp(value.timeMs);
      let out = '{"resultType":"vector","result":[';
      const els = value.elements;
      for (let i = 0; i < els.length; i++) {
        const el = els[i]!;
        if (i > 0) out += ',';
        out += `{"metric":${formatLabelsJson(el.labels)},"value":[${ts},"${formatValue(el.value)}"]}`;
      }
      return `${out}]}`;
    }
    case 'matrix': {
      let out = '{"resultType":"matrix","result":[';
      const series = value.series;
      // Series of a range query share one step grid, so the j-th timestamp of most series is the
      // same number: remember its text by index instead of converting it again (the conversion of
      // a ~1.7e9 seconds double is among the costliest parts of the render).
      const cacheTs: number[] = [];
      const cacheText: string[] = [];
      for (let i = 0; i < series.length; i++) {
        const s = series[i]!;
        if (i > 0) out += ',';
        out += `{"metric":${formatLabelsJson(s.labels)},"values":[`;
        const { tsMs, values } = s;
        for (let j = 0; j < tsMs.length; j++) {
          const t = tsMs[j]!;
          let ts: string;
          if (cacheTs[j] === t) {
            ts = cacheText[j]!;
          } else {
            ts = formatTimestamp(t);
            cacheTs[j] = t;
            cacheText[j] = ts;
          }
          if (j > 0) out += ',';
          out += `[${ts},"${formatValue(values[j]!)}"]`;
        }
        out += ']}';
      }
      return `${out}]}`;
    }
    case 'scalar':
      return `{"resultType":"scalar","result":[${formatTimestamp(value.timeMs)},"${formatValue(value.value)}"]}`;
    case 'string':
      return `{"resultType":"string","result":[${formatTimestamp(value.timeMs)},${jsonString(value.value)}]}`;
  }
}
