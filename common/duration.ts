/**
 * Prometheus duration strings: `[0-9]+(ms|s|m|h|d|w|y)` units concatenated largest first,
 * e.g. `1h30m`, `5m`, `1m0s` (Go-style, as Grafana sends), `1y` = 365d, `1w` = 7d.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  y: 365 * 24 * 3600_000,
  w: 7 * 24 * 3600_000,
  d: 24 * 3600_000,
  h: 3600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};
/** Units in the only order Prometheus accepts them. */
const UNIT_ORDER = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
const PART_RE = /([0-9]+)(ms|y|w|d|h|m|s)/y;

/**
 * Parses a Prometheus duration into milliseconds. Returns null when `text` is not a valid duration
 * (empty, unknown unit, units out of order or repeated). `0` alone is accepted as zero.
 */
export function parseDurationMs(text: string): number | null {
  if (text === '0') return 0;
  if (text === '') return null;
  let pos = 0;
  let total = 0;
  let lastUnit = -1;
  PART_RE.lastIndex = 0;
  while (pos < text.length) {
    PART_RE.lastIndex = pos;
    const m = PART_RE.exec(text);
    if (m === null) return null;
    const unit = m[2] as string;
    const order = UNIT_ORDER.indexOf(unit);
    if (order <= lastUnit) return null;
    lastUnit = order;
    total += Number(m[1]) * (UNIT_MS[unit] as number);
    pos = PART_RE.lastIndex;
  }
  return Number.isSafeInteger(total) ? total : null;
}

/** Renders ms as Prometheus prints durations (`1h30m`, `5m`, `1d`, `0s`). */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.abs(ms);
  let out = ms < 0 ? '-' : '';
  for (const unit of UNIT_ORDER) {
    const size = UNIT_MS[unit] as number;
    if (rest >= size) {
      const n = Math.floor(rest / size);
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
