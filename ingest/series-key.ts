/**
 * The identity of a series inside ingest (active-series tracking, known-series cache): its
 * normalised labels written the way a remote-write sender writes them, one `Label` message per
 * pair (field 1 of TimeSeries, name = field 1, value = field 2, lengths as varints), as a latin1
 * string of those bytes.
 *
 * Why this form and not a joined label string: senders write labels sorted and with no empty
 * values, so for almost every series this string equals the raw label run the decoder already
 * cut from the request (see RawLabelsLookup). The known-series cache then keeps one string per
 * series for both its raw lookup and this key (~115 bytes per series less in ingest memory).
 */
import { METRIC_NAME } from '../common/labels.js';
import type { Labels } from '../common/types.js';

/** Protobuf tag of a length-delimited field 1 (TimeSeries.labels, Label.name) and field 2 (Label.value). */
const TAG_FIELD_1 = 0x0a;
const TAG_FIELD_2 = 0x12;

let scratch = Buffer.allocUnsafe(1024);

/** Bytes `s` takes in UTF-8 (its length when it is ASCII, the common case). */
function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function putVarint(buf: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    buf[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

function putString(buf: Buffer, at: number, s: string, bytes: number): number {
  if (bytes === s.length) {
    for (let i = 0; i < s.length; i++) buf[at + i] = s.charCodeAt(i);
    return at + bytes;
  }
  return at + buf.write(s, at, bytes, 'utf8');
}

/** The ingest key of normalised (sorted, no empty values) `labels`; see the module comment. */
export function seriesIdentityKey(labels: Labels): string {
  let size = 0;
  for (let i = 0; i < labels.length; i += 2) {
    const n = utf8Length(labels[i] as string);
    const v = utf8Length(labels[i + 1] as string);
    const body = 2 + varintLength(n) + n + varintLength(v) + v;
    size += 1 + varintLength(body) + body;
  }
  if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, 2 * scratch.length));
  const buf = scratch;
  let at = 0;
  for (let i = 0; i < labels.length; i += 2) {
    const name = labels[i] as string;
    const value = labels[i + 1] as string;
    const n = utf8Length(name);
    const v = utf8Length(value);
    buf[at++] = TAG_FIELD_1;
    at = putVarint(buf, at, 2 + varintLength(n) + n + varintLength(v) + v);
    buf[at++] = TAG_FIELD_1;
    at = putVarint(buf, at, n);
    at = putString(buf, at, name, n);
    buf[at++] = TAG_FIELD_2;
    at = putVarint(buf, at, v);
    at = putString(buf, at, value, v);
  }
  return buf.toString('latin1', 0, at);
}

/** Reads a varint of `key` at `at`: [value, next position]. */
function readVarint(key: string, at: number): [number, number] {
  let n = 0;
  let scale = 1;
  for (;;) {
    const b = key.charCodeAt(at++);
    n += (b & 0x7f) * scale;
    if (b < 0x80) return [n, at];
    scale *= 128;
  }
}

/** The metric name (`__name__` value, '' when absent) of a key made by seriesIdentityKey. */
export function metricOfIdentityKey(key: string): string {
  let at = 0;
  while (at < key.length) {
    const [labelLen, bodyAt] = readVarint(key, at + 1);
    const [nameLen, nameAt] = readVarint(key, bodyAt + 1);
    const name = key.slice(nameAt, nameAt + nameLen);
    if (name === METRIC_NAME) {
      const [valueLen, valueAt] = readVarint(key, nameAt + nameLen + 1);
      return Buffer.from(key.slice(valueAt, valueAt + valueLen), 'latin1').toString('utf8');
    }
    at = bodyAt + labelLen;
  }
  return '';
}
