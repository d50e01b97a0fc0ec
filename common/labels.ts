import type { Labels } from './types.js';

/** Separator between names and values in a series key; cannot occur in valid UTF-8 label text. */
const KEY_SEP = '\xff';

/** The label name that holds the metric name. */
export const METRIC_NAME = '__name__';

/**
 * The canonical key of a label set: names and values joined with a separator that valid label
 * text cannot contain. Equal label sets ⇔ equal keys. Input must already be sorted (see sortLabels).
 */
export function seriesKey(labels: Labels): string {
  return labels.join(KEY_SEP);
}

/** Inverse of seriesKey. */
export function labelsFromKey(key: string): Labels {
  return key === '' ? [] : key.split(KEY_SEP);
}

/** Value of label `name`, or '' when absent (Prometheus treats an absent label as empty). */
export function getLabel(labels: Labels, name: string): string {
  for (let i = 0; i < labels.length; i += 2) {
    if (labels[i] === name) return labels[i + 1] as string;
  }
  return '';
}

/** Builds sorted Labels from a record, dropping empty values. */
export function labelsFromRecord(record: Readonly<Record<string, string>>): Labels {
  const names = Object.keys(record).filter((n) => record[n] !== '').sort(compareStrings);
  const out: string[] = [];
  for (const n of names) out.push(n, record[n] as string);
  return out;
}

/** Converts Labels to a plain object (for JSON output). */
export function labelsToRecord(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < labels.length; i += 2) out[labels[i] as string] = labels[i + 1] as string;
  return out;
}

/** Byte-wise (UTF-16 code unit) string comparison, as Go's `<` on strings for BMP text. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Orders label sets as Prometheus's `labels.Compare`: pair by pair, name then value; a prefix sorts first.
 */
export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * Sorts a flat pair array by name in place-free fashion and returns the sorted copy.
 * Returns the input itself when it is already sorted (the common case: senders sort).
 */
export function sortLabels(labels: Labels): Labels {
  let sorted = true;
  for (let i = 2; i < labels.length; i += 2) {
    if ((labels[i - 2] as string) > (labels[i] as string)) {
      sorted = false;
      break;
    }
  }
  if (sorted) return labels;
  const idx: number[] = [];
  for (let i = 0; i < labels.length; i += 2) idx.push(i);
  idx.sort((p, q) => compareStrings(labels[p] as string, labels[q] as string));
  const out: string[] = [];
  for (const i of idx) out.push(labels[i] as string, labels[i + 1] as string);
  return out;
}

/** Returns labels without the listed names (input stays untouched). */
export function dropLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  const out: string[] = [];
  for (let i = 0; i < labels.length; i += 2) {
    if (!names.has(labels[i] as string)) out.push(labels[i] as string, labels[i + 1] as string);
  }
  return out;
}

/** Returns only the listed names (input stays untouched). */
export function keepLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  const out: string[] = [];
  for (let i = 0; i < labels.length; i += 2) {
    if (names.has(labels[i] as string)) out.push(labels[i] as string, labels[i + 1] as string);
  }
  return out;
}

/** Prometheus `{a="1", b="2"}` rendering, metric name in front when present. For messages and tests. */
export function formatLabels(labels: Labels): string {
  let name = '';
  const parts: string[] = [];
  for (let i = 0; i < labels.length; i += 2) {
    if (labels[i] === METRIC_NAME) name = labels[i + 1] as string;
    else parts.push(`${labels[i] as string}=${JSON.stringify(labels[i + 1])}`);
  }
  return parts.length === 0 && name !== '' ? name : `${name}{${parts.join(', ')}}`;
}

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Whether `name` is a valid (legacy, remote-write 1.0) metric name. */
export function isValidMetricName(name: string): boolean {
  return METRIC_NAME_RE.test(name);
}

/** Whether `name` is a valid (legacy, remote-write 1.0) label name. */
export function isValidLabelName(name: string): boolean {
  return LABEL_NAME_RE.test(name);
}
