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
import { lenFieldSize, utf8Length, WireWriter } from '../proto/wire-writer.js';

/** Protobuf tag of a length-delimited field 1 (TimeSeries.labels, Label.name) and field 2 (Label.value). */
const TAG_FIELD_1 = 0x0a;
const TAG_FIELD_2 = 0x12;

let scratch = Buffer.allocUnsafe(1024);

/** The ingest key of normalised (sorted, no empty values) `labels`; see the module comment. */
export function seriesIdentityKey(labels: Labels): string {
  let size = 0;
  for (let i = 0; i < labels.length; i += 2) {
    size += lenFieldSize(labelMessageSize(utf8Length(labels[i] as string), utf8Length(labels[i + 1] as string)));
  }
  if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, 2 * scratch.length));
  const w = new WireWriter(scratch);
  for (let i = 0; i < labels.length; i += 2) {
    const name = labels[i] as string;
    const value = labels[i + 1] as string;
    const n = utf8Length(name);
    const v = utf8Length(value);
    w.buf[w.pos++] = TAG_FIELD_1;
    w.varint(labelMessageSize(n, v));
    w.buf[w.pos++] = TAG_FIELD_1;
    w.string(name, n);
    w.buf[w.pos++] = TAG_FIELD_2;
    w.string(value, v);
  }
  return scratch.toString('latin1', 0, w.pos);
}

/** Bytes of a Label message with a name of `n` and a value of `v` UTF-8 bytes. */
function labelMessageSize(n: number, v: number): number {
  return lenFieldSize(n) + lenFieldSize(v);
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
