import snappy from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { encodeWriteRequest } from '../proto/write-request-encoder.js';
import { decodeRemoteWriteBody, decompressSnappy, negotiate, snappyDecodedLength } from './decode.js';
import { caught } from '../test/helpers/errors.js';

const LIMITS = { maxBodyBytes: 1 << 16, maxDecompressedBytes: 1 << 18 };

describe('negotiate', () => {
  it.each([
    { ct: undefined, ce: undefined, want: 'v1' },
    { ct: '', ce: '', want: 'v1' },
    { ct: 'application/x-protobuf', ce: 'snappy', want: 'v1' },
    { ct: 'Application/X-Protobuf', ce: 'SNAPPY', want: 'v1' },
    { ct: 'application/x-protobuf;proto=prometheus.WriteRequest', ce: 'snappy', want: 'v1' },
    { ct: 'application/x-protobuf; proto="prometheus.WriteRequest"', ce: 'snappy', want: 'v1' },
    { ct: 'application/x-protobuf;proto=io.prometheus.write.v2.Request', ce: 'snappy', want: 'v2' },
  ])('$ct / $ce → $want', ({ ct, ce, want }) => {
    expect(negotiate({ contentType: ct, contentEncoding: ce })).toBe(want);
  });

  it.each([
    { ct: 'application/x-protobuf', ce: 'gzip', code: 'unsupported-content-encoding' },
    { ct: 'application/x-protobuf', ce: 'snappy, gzip', code: 'unsupported-content-encoding' },
    { ct: 'application/json', ce: 'snappy', code: 'unsupported-content-type' },
    { ct: 'application/x-protobuf;proto=prometheus.ReadRequest', ce: 'snappy', code: 'unsupported-content-type' },
  ])('$ct / $ce → 415 $code', ({ ct, ce, code }) => {
    const err = caught(() => negotiate({ contentType: ct, contentEncoding: ce }));
    expect([err.kind, err.code]).toEqual(['unsupported_media', code]);
  });
});

describe('snappy handling', () => {
  it.each([
    { hex: '00', want: [0, 1] },
    { hex: '7f', want: [127, 1] },
    { hex: '8001', want: [128, 2] },
    { hex: 'ffffffff0f', want: [0xffffffff, 5] },
  ])('preamble $hex', ({ hex, want }) => {
    expect(snappyDecodedLength(Buffer.from(hex, 'hex'))).toEqual(want);
  });

  it.each([{ hex: '' }, { hex: '80' }, { hex: 'ffffffffff01' }, { hex: 'ffffffff1f' }])('bad preamble $hex → bad-snappy', ({ hex }) => {
    expect(caught(() => snappyDecodedLength(Buffer.from(hex, 'hex'))).code).toBe('bad-snappy');
  });

  it('rejects a 4 GiB claim before allocating anything', () => {
    const before = process.memoryUsage().arrayBuffers;
    const err = caught(() => decompressSnappy(Buffer.from('ffffffff0f00', 'hex'), 1 << 20));
    expect([err.kind, err.code]).toEqual(['too_large', 'decompressed-too-large']);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });

  it.each([
    { name: 'short stream (claims more than it holds)', hex: '0a08616263' },
    { name: 'long stream (holds more than it claims)', hex: '0208616263' },
    { name: 'copy before any output', hex: '0a0500' },
    { name: 'literal past end', hex: '0a2461' },
    { name: 'announced length impossible for the body size', hex: '80800161' },
    { name: 'overlapping copy longer than announced', hex: '0500611e0100' },
  ])('$name → bad-snappy', ({ hex }) => {
    expect(caught(() => decompressSnappy(Buffer.from(hex, 'hex'), 1 << 20)).code).toBe('bad-snappy');
  });

  it('round trips real snappy output, including back-references', () => {
    const raw = Buffer.from('abcabcabcabcabcabcabcabcabcabcabcabc'.repeat(50));
    expect(Buffer.from(decompressSnappy(Buffer.from(snappy.compress(raw)), 1 << 20))).toEqual(raw);
  });

  it('returns a fresh array that owns its buffer, from a Buffer at any offset', () => {
    const raw = Buffer.from('label=value,'.repeat(500));
    const compressed = snappy.compress(raw);
    const host = Buffer.alloc(compressed.length + 5);
    host.set(compressed, 5);
    const out = decompressSnappy(host.subarray(5), 1 << 20);
    expect(Buffer.from(out).equals(raw)).toBe(true);
    // decode-worker.ts transfers out.buffer to the main thread; a shared or pooled buffer would force a copy.
    expect([out.byteOffset, out.byteLength]).toEqual([0, out.buffer.byteLength]);
  });

  it('framed snappy gets its own message', () => {
    const err = caught(() => decompressSnappy(Buffer.from('ff060000734e61507059', 'hex'), 1 << 20));
    expect([err.kind, err.code]).toEqual(['bad_data', 'snappy-framed']);
    expect(err.message).toContain('framed snappy format');
  });
});

describe('decodeRemoteWriteBody', () => {
  const batch = { series: [['__name__', 'up']], sampleStart: new Uint32Array([0, 1]), tsMs: new Float64Array([5]), values: new Float64Array([1]) };
  const good = Buffer.from(snappy.compress(encodeWriteRequest(batch)));
  const headers = { contentType: 'application/x-protobuf', contentEncoding: 'snappy' };

  it('decodes a valid body', () => {
    const got = decodeRemoteWriteBody(good, headers, LIMITS);
    expect(got.series).toEqual([['__name__', 'up']]);
    expect(Array.from(got.tsMs)).toEqual([5]);
  });

  it.each([
    { name: 'compressed over limit', limits: { ...LIMITS, maxBodyBytes: good.length - 1 }, code: 'body-too-large' },
    { name: 'decompressed over limit', limits: { ...LIMITS, maxDecompressedBytes: 3 }, code: 'decompressed-too-large' },
  ])('$name → 413', ({ limits, code }) => {
    const err = caught(() => decodeRemoteWriteBody(good, headers, limits));
    expect([err.kind, err.code]).toEqual(['too_large', code]);
    expect(err.message).toMatch(/limit \d+ \(ingest\.max\w+\)/);
  });

  it('v2 is refused with 415 before looking at the body', () => {
    const err = caught(() => decodeRemoteWriteBody(Buffer.alloc(0), { ...headers, contentType: 'application/x-protobuf;proto=io.prometheus.write.v2.Request' }, LIMITS));
    expect([err.kind, err.code]).toEqual(['unsupported_media', 'remote-write-v2-unsupported']);
  });
});
