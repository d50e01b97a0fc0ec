/**
 * Plain data of a (protobufjs) message for deep comparisons: bytes as hex (bit-exact), methods and
 * `$`-fields dropped, and fields protobufjs puts on the prototype (defaults of absent fields)
 * included, as for…in reaches them.
 */
export function plain(m: unknown): unknown {
  if (m instanceof Uint8Array) return Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('hex');
  if (Array.isArray(m)) return m.map(plain);
  if (m === null || typeof m !== 'object') return m;
  const out: Record<string, unknown> = {};
  for (const k in m) {
    const v = (m as Record<string, unknown>)[k];
    if (typeof v !== 'function' && !k.startsWith('$')) out[k] = plain(v);
  }
  return out;
}
