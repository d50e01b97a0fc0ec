/**
 * Calendar fields of a Unix time in seconds, exactly as Prometheus's date functions compute them:
 * Go's `time.Unix(int64(v), 0).UTC()`. Two Go details matter for odd inputs: `int64(v)` truncates
 * toward zero and, on amd64, turns NaN, ±Inf and out-of-range values into -2^63; and Go's calendar
 * works on a uint64 "absolute" second count that wraps for times near ±2^63 s, giving years such as
 * 292277026596 for NaN. Ordinary times take a fast path in plain float arithmetic (exact below 2^53);
 * extreme ones replay Go's algorithm in BigInt.
 */

/** Calendar fields; reused by every call (read them before the next call). */
export interface GoCivil {
  year: number;
  /** 1–12. */
  month: number;
  /** 1–31. */
  day: number;
  /** 1–366. */
  yday: number;
  /** 0 = Sunday. */
  weekday: number;
  hour: number;
  minute: number;
}

const scratch: GoCivil = { year: 0, month: 0, day: 0, yday: 0, weekday: 0, hour: 0, minute: 0 };
const TWO_63 = 9223372036854775808;
/** Below this magnitude every intermediate of the fast path is an exact integer in float64. */
const FAST_LIMIT = 1e15;

/** Go `int64(v)` on amd64: truncation, with -2^63 for NaN, ±Inf and out-of-range values. */
export function goInt64(v: number): number {
  if (!(v > -TWO_63 - 1 && v < TWO_63)) return -TWO_63;
  return Math.trunc(v);
}

/** Proleptic Gregorian leap year, Go's `isLeap` (truncating remainder, as JS `%`). */
export function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

const DAYS_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

/** Days in `month` (1–12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return (DAYS_BEFORE[month] as number) - (DAYS_BEFORE[month - 1] as number);
}

/** Days from 1970-01-01 to the first of January of `year` (Hinnant's days_from_civil with m = 1, d = 1). */
function daysFromCivilJan1(year: number): number {
  const y = year - 1;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = 306; // March-based day of year of January 1st
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Fields of `time.Unix(sec, 0).UTC()` for an integral `sec`. Returns a shared object. */
export function goCivil(sec: number): GoCivil {
  if (Math.abs(sec) < FAST_LIMIT) return fastCivil(sec);
  return bigCivil(BigInt(sec));
}

/** Fields of `time.Unix(int64(v), 0).UTC()` for a sample value. */
export function goCivilOfValue(v: number): GoCivil {
  return goCivil(goInt64(v));
}

function fastCivil(sec: number): GoCivil {
  const days = Math.floor(sec / 86400);
  const sod = sec - days * 86400;
  // Hinnant's civil_from_days.
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  scratch.year = year;
  scratch.month = month;
  scratch.day = day;
  scratch.yday = days - daysFromCivilJan1(year) + 1;
  scratch.weekday = (((days + 4) % 7) + 7) % 7;
  scratch.hour = Math.floor(sod / 3600);
  scratch.minute = Math.floor((sod % 3600) / 60);
  return scratch;
}

const U64 = (1n << 64n) - 1n;
/** Go `unixToInternal + internalToAbsolute`. */
const UNIX_TO_ABSOLUTE = 9223372028715321600n;
const ABSOLUTE_ZERO_YEAR = -292277022399n;
const DAYS_PER_400 = 146097n;
const DAYS_PER_100 = 36524n;
const DAYS_PER_4 = 1461n;

/** Go's `absDate`, `absWeekday`, `Hour`, `Minute` on the wrapped uint64 absolute time. */
function bigCivil(sec: bigint): GoCivil {
  const abs = (sec + UNIX_TO_ABSOLUTE) & U64;
  let d = abs / 86400n;
  let n = d / DAYS_PER_400;
  let y = 400n * n;
  d -= DAYS_PER_400 * n;
  n = d / DAYS_PER_100;
  n -= n >> 2n;
  y += 100n * n;
  d -= DAYS_PER_100 * n;
  n = d / DAYS_PER_4;
  y += 4n * n;
  d -= DAYS_PER_4 * n;
  n = d / 365n;
  n -= n >> 2n;
  y += n;
  d -= 365n * n;
  // Go: int(int64(y) + absoluteZeroYear); y < 2^63 here.
  const year = Number(BigInt.asIntN(64, y + ABSOLUTE_ZERO_YEAR));
  const yday = Number(d);
  let day = yday;
  let month: number;
  if (isLeapYear(year) && day >= 31 + 29 - 1) {
    if (day === 31 + 29 - 1) {
      month = 2;
      day = 29;
      return finishBig(scratch, abs, year, month, day, yday);
    }
    day--;
  }
  let m = Math.floor(day / 31);
  const end = DAYS_BEFORE[m + 1] as number;
  let begin: number;
  if (day >= end) {
    m++;
    begin = end;
  } else {
    begin = DAYS_BEFORE[m] as number;
  }
  month = m + 1;
  day = day - begin + 1;
  return finishBig(scratch, abs, year, month, day, yday);
}

function finishBig(out: GoCivil, abs: bigint, year: number, month: number, day: number, yday: number): GoCivil {
  out.year = year;
  out.month = month;
  out.day = day;
  out.yday = yday + 1;
  // January 1 of the absolute year was a Monday.
  out.weekday = Number(((abs + 86400n) % 604800n) / 86400n);
  out.hour = Number((abs % 86400n) / 3600n);
  out.minute = Number((abs % 3600n) / 60n);
  return out;
}
