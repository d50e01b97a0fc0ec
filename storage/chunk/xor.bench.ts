import { bench, describe } from 'vitest';
import { wordsOf } from '../../common/types.js';
import { decodeXorChunk, XorEncoder } from './xor.js';

// 120 samples of a jittered gauge, built once outside the measured functions.
const N = 120;
const ts = new Float64Array(N);
const vs = new Float64Array(N);
for (let i = 0; i < N; i++) {
  ts[i] = 1_700_000_000_000 + i * 15_000 + ((i * 7919) % 11);
  vs[i] = Math.round(Math.sin(i / 10) * 1000) / 10;
}
const words = wordsOf(vs);
const enc = new XorEncoder();
for (let i = 0; i < N; i++) enc.append(ts[i] as number, words, i);
const chunk = enc.bytes();
const outT = new Float64Array(N);
const outV = new Float64Array(N);

describe('xor chunk (120 samples)', () => {
  bench('append 120', () => {
    const e = new XorEncoder();
    for (let i = 0; i < N; i++) e.append(ts[i] as number, words, i);
  });
  bench('decode 120', () => {
    decodeXorChunk(chunk, outT, outV, 0);
  });
});
