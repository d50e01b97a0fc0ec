/**
 * Request parameters of the query API (http-api.md §2): where they come from (URL query and form
 * body together, Go `Request.FormValue` semantics) and how each kind is parsed. Every failure is a
 * bad_data AppError worded like Prometheus (`invalid parameter "start": cannot parse "x" to a valid
 * timestamp`).
 */
import { badData, clip } from '../../common/errors.js';
import { parseDurationMs } from '../../common/duration.js';
import type { TimeMs } from '../../common/types.js';

/**
 * Earliest and latest times the API deals in, used for omitted start/end ("all time") and for the
 * min/max time strings Prometheus clients send. ±8.64e15 ms is the JS Date range and a safe integer;
 * Prometheus's own bounds (±~292 billion years) do not fit in a float64 of ms exactly.
 */
export const MIN_TIME_MS: TimeMs = -8.64e15;
export const MAX_TIME_MS: TimeMs = 8.64e15;

/** Prometheus's formatted min/max times (`api.go` minTimeFormatted/maxTimeFormatted), accepted verbatim. */
const MIN_TIME_FORMATTED = '-292273086-05-16T16:47:06Z';
const MAX_TIME_FORMATTED = '292277025-08-18T07:12:54.999999999Z';

/** Most points per series a range query may produce (Prometheus `queryRange`). */
export const MAX_POINTS_PER_SERIES = 11_000;

/**
 * Request parameters: URL query and form body merged. As in Go's `FormValue`, body values come
 * before URL values, so `get` prefers the body and `getAll` lists body values first.
 */
export class RequestParams {
  private readonly _body: URLSearchParams | null;
  private readonly _query: URLSearchParams;

  constructor(query: URLSearchParams, body: URLSearchParams | null) {
    this._query = query;
    this._body = body;
  }

  /**
   * Builds the params of a request from its raw URL (path with `?query`) and its parsed body,
   * which is used only when it is a URLSearchParams (our form parser) or a plain string record.
   */
  static from(rawUrl: string, body: unknown): RequestParams {
    const q = rawUrl.indexOf('?');
    const query = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : '');
    return new RequestParams(query, bodyParams(body));
  }

  /** First value of `name` (body first, then URL), or undefined when absent. */
  get(name: string): string | undefined {
    const b = this._body?.get(name);
    if (b !== null && b !== undefined) return b;
    return this._query.get(name) ?? undefined;
  }

  /** All values of `name`: body values, then URL values. */
  getAll(name: string): string[] {
    const fromQuery = this._query.getAll(name);
    if (this._body === null) return fromQuery;
    const fromBody = this._body.getAll(name);
    return fromBody.length === 0 ? fromQuery : fromBody.concat(fromQuery);
  }
}

function bodyParams(body: unknown): URLSearchParams | null {
  if (body instanceof URLSearchParams) return body;
  // Tolerates a form parser registered elsewhere that yields `{name: value | value[]}`.
  if (body !== null && typeof body === 'object' && !Buffer.isBuffer(body)) {
    const out = new URLSearchParams();
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (typeof v === 'string') out.append(k, v);
      else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') out.append(k, x);
    }
    return out;
  }
  return null;
}

/** `invalid parameter "<name>": <reason>` as a bad_data AppError. */
export function invalidParam(name: string, reason: string): ReturnType<typeof badData> {
  return badData('invalid-parameter', `invalid parameter ${JSON.stringify(name)}: ${reason}`);
}

// Go strconv.ParseFloat's decimal syntax (no hex, no underscores; specials are handled apart).
const DECIMAL_FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Go math.Round: half away from zero (JS Math.round goes half up). */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Days since 1970-01-01 of a proleptic Gregorian date (works for any year, unlike Date.UTC for < 100). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

function parseRfc3339Ms(text: string): number | null {
  const m = RFC3339.exec(text);
  if (m === null) return null;
  const [year, month, day, hour, min, sec] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || min > 59 || sec > 59) return null;
  // Prometheus converts with timestamp.FromTime: nanoseconds truncated to ms.
  const fracMs = m[7] === undefined ? 0 : Number((m[7] + '00').slice(0, 3));
  let offsetMin = 0;
  const zone = m[8] as string;
  if (zone !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return null;
    offsetMin = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const secs = daysFromCivil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec - offsetMin * 60;
  return secs * 1000 + fracMs;
}

function clampTime(ms: number): TimeMs {
  return ms < MIN_TIME_MS ? MIN_TIME_MS : ms > MAX_TIME_MS ? MAX_TIME_MS : ms;
}

/**
 * Parses a timestamp: Unix seconds as a decimal float (rounded to ms, half away from zero), else
 * RFC 3339 with optional fraction (truncated to ms), else Prometheus's min/max time strings.
 * Returns null when `text` is none of those. Results outside ±MAX_TIME_MS are clamped, so clients
 * that send ms where seconds are expected (Grafana's exemplar probe) still get an answer.
 */
export function parseTimeMs(text: string): TimeMs | null {
  if (DECIMAL_FLOAT.test(text)) {
    const secs = Number(text);
    if (!Number.isFinite(secs)) return clampTime(secs > 0 ? MAX_TIME_MS : MIN_TIME_MS);
    // As Prometheus: split whole seconds and fraction, round the fraction to ms.
    const whole = Math.trunc(secs);
    return clampTime(whole * 1000 + roundHalfAway((secs - whole) * 1000));
  }
  const rfc = parseRfc3339Ms(text);
  if (rfc !== null) return clampTime(rfc);
  if (text === MIN_TIME_FORMATTED) return MIN_TIME_MS;
  if (text === MAX_TIME_FORMATTED) return MAX_TIME_MS;
  return null;
}

/**
 * Parses a duration: float seconds (`15`, `0.5`, may be negative) rounded to ms, or a Prometheus
 * duration (`5m`, `1h30m`). Returns null when invalid.
 */
export function parseDurationParamMs(text: string): number | null {
  if (DECIMAL_FLOAT.test(text)) {
    const ms = roundHalfAway(Number(text) * 1000);
    return Number.isSafeInteger(ms) ? ms : null;
  }
  return parseDurationMs(text);
}

/** Required or defaulted timestamp parameter; `fallback` is used when the parameter is absent or empty. */
export function timeParam(params: RequestParams, name: string, fallback?: TimeMs): TimeMs {
  const raw = params.get(name);
  if ((raw === undefined || raw === '') && fallback !== undefined) return fallback;
  const text = raw ?? '';
  const ms = parseTimeMs(text);
  if (ms === null) throw invalidParam(name, `cannot parse ${JSON.stringify(clip(text))} to a valid timestamp`);
  return ms;
}

/** Optional duration parameter in ms; undefined when absent or empty. */
export function optionalDurationParam(params: RequestParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === undefined || raw === '') return undefined;
  return durationValue(name, raw);
}

/** Required duration parameter in ms (an absent one fails like an unparsable one, as in Prometheus). */
export function durationParam(params: RequestParams, name: string): number {
  return durationValue(name, params.get(name) ?? '');
}

function durationValue(name: string, text: string): number {
  const ms = parseDurationParamMs(text);
  if (ms === null) throw invalidParam(name, `cannot parse ${JSON.stringify(clip(text))} to a valid duration`);
  return ms;
}

/** `limit` parameter: non-negative integer, 0 (or absent) = unlimited. */
export function limitParam(params: RequestParams): number {
  const raw = params.get('limit');
  if (raw === undefined || raw === '') return 0;
  if (!/^[+-]?\d+$/.test(raw)) throw invalidParam('limit', `cannot parse ${JSON.stringify(clip(raw))} to a valid limit`);
  const n = Number(raw);
  if (n < 0) throw invalidParam('limit', 'limit must be non-negative');
  if (!Number.isSafeInteger(n)) throw invalidParam('limit', `cannot parse ${JSON.stringify(clip(raw))} to a valid limit`);
  return n;
}

/** A validated range-query window. */
export interface RangeWindow {
  readonly startMs: TimeMs;
  readonly endMs: TimeMs;
  readonly stepMs: number;
}

/**
 * Parses and validates `start`, `end`, `step` in Prometheus's order: start, end, end ≥ start,
 * step, step > 0, at most 11,000 points per series ((end − start) / step, integer division).
 */
export function rangeParams(params: RequestParams): RangeWindow {
  const startMs = timeParam(params, 'start');
  const endMs = timeParam(params, 'end');
  if (endMs < startMs) throw badData('invalid-parameter', 'end timestamp must not be before start time');
  const stepMs = durationParam(params, 'step');
  if (stepMs <= 0) {
    throw badData('invalid-parameter', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
  }
  if (Math.floor((endMs - startMs) / stepMs) > MAX_POINTS_PER_SERIES) {
    throw badData(
      'invalid-parameter',
      'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    );
  }
  return { startMs, endMs, stepMs };
}

/**
 * Decodes a label name from a URL path segment escaped as Prometheus's `U__` value-encoding
 * (http-api.md §3): `U__` prefix, letters/digits/colons as-is, `__` → `_`, `_<hex>_` → that code
 * point. Names without the prefix, and (as Prometheus's `model.UnescapeName` does) names whose
 * escape is malformed, are returned unchanged.
 */
export function unescapeLabelName(name: string): string {
  if (!name.startsWith('U__')) return name;
  const s = name.slice(3);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '_') {
      if (s[i + 1] === '_') {
        out += '_';
        i++;
        continue;
      }
      const close = s.indexOf('_', i + 1);
      if (close < 0) return name;
      const hex = s.slice(i + 1, close);
      if (!/^[0-9a-fA-F]{1,6}$/.test(hex)) return name;
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return name;
      out += String.fromCodePoint(cp);
      i = close;
    } else if (/[a-zA-Z0-9:]/.test(c)) {
      out += c;
    } else {
      return name;
    }
  }
  return out;
}
