/**
 * Shared harness of the hand-written codec benchmarks (write-codec.bench.ts, select-codec.bench.ts):
 * the same work done by protobufjs reflection and by our codec, timed in alternating rounds.
 * Under vitest (`npx vitest bench`) each pair becomes two vitest benchmarks; run directly with
 * node it prints one table of medians.
 */

/** One comparison: the same work done by protobufjs reflection and by the hand-written codec. */
export interface CodecPair {
  readonly name: string;
  readonly protobufjs: () => unknown;
  readonly ours: () => unknown;
}

/** µs per call of one round of `iters` calls. */
function round(run: () => unknown, iters: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) run();
  return Number(process.hrtime.bigint() - t0) / iters / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

/**
 * Median µs per call of both sides. Rounds alternate between the two, so load from other
 * processes and GC drift hit both alike.
 */
function compare(p: CodecPair, warm: number, rounds: number, iters: number): { protobufjs: number; ours: number } {
  for (let i = 0; i < warm; i++) (p.protobufjs(), p.ours());
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    a.push(round(p.protobufjs, iters));
    b.push(round(p.ours, iters));
  }
  return { protobufjs: median(a), ours: median(b) };
}

/** Registers the pairs as vitest benchmarks, or times them and prints a table (plain node). */
export async function runCodecPairs(title: string, pairs: readonly CodecPair[], opts: { warm: number; iters: number; rounds?: number }): Promise<void> {
  if (process.env['VITEST'] !== undefined) {
    const { bench, describe } = await import('vitest');
    for (const p of pairs) {
      describe(`${title}: ${p.name}`, () => {
        bench('protobufjs', () => void p.protobufjs());
        bench('hand-written', () => void p.ours());
      });
    }
    return;
  }
  const width = Math.max(24, ...pairs.map((p) => p.name.length + 2));
  console.log('median µs/msg'.padEnd(width) + 'protobufjs'.padStart(12) + 'ours'.padStart(10) + 'speed-up'.padStart(10));
  for (const p of pairs) {
    const r = compare(p, opts.warm, opts.rounds ?? 41, opts.iters);
    console.log(p.name.padEnd(width) + r.protobufjs.toFixed(1).padStart(12) + r.ours.toFixed(1).padStart(10) + `${(r.protobufjs / r.ours).toFixed(2)}×`.padStart(10));
  }
}
