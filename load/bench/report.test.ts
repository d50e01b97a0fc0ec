import { describe, expect, it } from 'vitest';
import {
  acceptanceLine,
  bytesPerSample,
  commitLine,
  fmt,
  halvesTable,
  median,
  medianOfRounds,
  memoryTable,
  queryAgreement,
  queryErrors,
  queryTable,
  roundLines,
  writeHalves,
  writeTable,
  type SystemResult,
  type WriteHalves,
} from './report.js';

function halves(firstCpu: number, secondCpu: number): WriteHalves {
  return { first: { samplesPerSec: 80_000, cpuSecPerMSamples: firstCpu }, second: { samplesPerSec: 120_000, cpuSecPerMSamples: secondCpu } };
}

function result(system: string, over: Partial<SystemResult> = {}): SystemResult {
  return {
    system,
    samplesSent: 1000,
    samplesAcked: 1000,
    samplesStored: 1000,
    samplesPerSec: 100_000,
    writeP50Ms: 10,
    writeP99Ms: 40,
    errors: {},
    cpuSecPerMSamples: 2,
    peakRssBytes: 100 * 1024 * 1024,
    diskBytes: 2000,
    diskCompactedBytes: null,
    diskNote: '',
    halves: halves(2.5, 1.5),
    flushCpuSec: 0.25,
    compactionCpuSec: null,
    queries: [
      { name: 'q1', medianMs: 10, resultSeries: 5, error: '' },
      { name: 'q2', medianMs: 20, resultSeries: 1, error: '' },
    ],
    warmQueries: [
      { name: 'q1', medianMs: 4, resultSeries: 5, error: '' },
      { name: 'q2', medianMs: 8, resultSeries: 1, error: '' },
    ],
    ...over,
  };
}

describe('fmt and bytesPerSample', () => {
  it.each([
    { n: 1234567.891, d: 0, want: '1,234,568' },
    { n: 1.5, d: 2, want: '1.50' },
    { n: NaN, d: 1, want: '—' },
  ])('fmt($n, $d) = $want', ({ n, d, want }) => expect(fmt(n, d)).toBe(want));

  it('divides bytes by samples and is NaN without samples', () => {
    expect(bytesPerSample(300, 200)).toBe(1.5);
    expect(bytesPerSample(300, 0)).toBeNaN();
  });
});

describe('writeTable', () => {
  it('puts ratios against promstore in the other rows only', () => {
    const t = writeTable([result('promstore'), result('prometheus', { samplesPerSec: 250_000, diskBytes: 4500, diskCompactedBytes: 1500 })]);
    const lines = t.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toContain('| promstore | 100,000 |');
    expect(lines[2]).not.toContain('×)');
    expect(lines[3]).toContain('250,000 (2.50×)');
    expect(lines[3]).toContain('4.50 (2.25×); compacted 1.50');
  });

  it('shows request errors next to the counts', () => {
    const t = writeTable([result('promstore', { samplesAcked: 900, errors: { '400': 2 } })]);
    expect(t).toContain('900 / 1,000 (errors 400×2)');
  });
});

describe('queryTable and checks', () => {
  it('renders medians with ratios and marks failed queries', () => {
    const other = result('victoriametrics', { queries: [{ name: 'q1', medianMs: 5, resultSeries: 5, error: '' }, { name: 'q2', medianMs: NaN, resultSeries: -1, error: '422: x' }] });
    const t = queryTable([result('promstore'), other]);
    expect(t.split('\n')[3]).toBe('| victoriametrics | 5.0 (0.50×) | error |');
    expect(queryAgreement([result('promstore'), other])).toEqual(['q2: result series differ (promstore 1, victoriametrics -1)']);
  });

  it('renders the second pass from its own medians and lists its failures', () => {
    const other = result('prometheus', { warmQueries: [{ name: 'q1', medianMs: 6, resultSeries: 5, error: '' }, { name: 'q2', medianMs: NaN, resultSeries: -1, error: '503: y' }] });
    const t = queryTable([result('promstore'), other], (r) => r.warmQueries).split('\n');
    expect(t[2]).toBe('| promstore | 4.0 | 8.0 |');
    expect(t[3]).toBe('| prometheus | 6.0 (1.50×) | error |');
    expect(queryErrors([result('promstore'), other])).toEqual(['prometheus q2 (second pass): 503: y']);
  });

  it.each([
    { name: 'equal', rs: [result('a'), result('b')], want: /^All systems acknowledged/ },
    { name: 'one short', rs: [result('a'), result('b', { samplesStored: 999 })], want: /^Counts differ: .*b acked 1,000, stored 999/ },
  ])('acceptanceLine: $name', ({ rs, want }) => expect(acceptanceLine(rs)).toMatch(want));
});

describe('memoryTable', () => {
  it('divides peak RSS by series', () => {
    const t = memoryTable([{ system: 'promstore', series: 1000, samplesAcked: 4000, peakRssBytes: 2_048_000, idleRssBytes: 1_024_000, seconds: 1.25, error: '' }]);
    expect(t).toContain('| promstore | 1,000 | 4,000 | 2 | 1 | 2,048 | 1,024 | 1.3 |');
  });
});

describe('commitLine', () => {
  it('names the commit, marks uncommitted changes and says when there is no checkout', () => {
    expect(commitLine('v20.1.0', 'abc1234', '')).toBe('- Node v20.1.0; commit `abc1234`');
    expect(commitLine('v20.1.0', 'abc1234', ' M x.ts')).toBe('- Node v20.1.0; commit `abc1234` (with uncommitted changes)');
    expect(commitLine('v20.1.0', '', '')).toBe('- Node v20.1.0; commit unknown (not run from a git checkout: name it by hand)');
  });
});

describe('rounds', () => {
  it('takes the median of odd and even counts, ignoring NaN', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([NaN, 5])).toBe(5);
    expect(median([])).toBeNaN();
  });

  it('reports the median of every figure, and the worst round for counts and errors', () => {
    const rounds = [
      result('promstore', { samplesPerSec: 300, cpuSecPerMSamples: 1.5, diskBytes: 10, samplesAcked: 1000, errors: { '503': 1 }, halves: halves(3, 1), flushCpuSec: 0.5 }),
      result('promstore', {
        samplesPerSec: 100,
        cpuSecPerMSamples: 0.5,
        diskBytes: 30,
        samplesStored: 990,
        queries: [
          { name: 'q1', medianMs: 50, resultSeries: 5, error: '' },
          { name: 'q2', medianMs: 2, resultSeries: 1, error: 'boom' },
        ],
      }),
      result('promstore', { samplesPerSec: 200, cpuSecPerMSamples: 1, diskBytes: 20, samplesAcked: 998, errors: { '503': 2, timeout: 1 }, halves: halves(1, 3), flushCpuSec: 0.1 }),
    ];
    const m = medianOfRounds(rounds);
    expect(m).toMatchObject({ samplesPerSec: 200, cpuSecPerMSamples: 1, diskBytes: 20, samplesAcked: 998, samplesStored: 990, errors: { '503': 3, timeout: 1 } });
    // Each half's figure is its own median (rounds: first 3 / 2.5 / 1, second 1 / 1.5 / 3).
    expect(m.halves).toEqual({ first: { samplesPerSec: 80_000, cpuSecPerMSamples: 2.5 }, second: { samplesPerSec: 120_000, cpuSecPerMSamples: 1.5 } });
    expect(m.flushCpuSec).toBe(0.25);
    expect(m.warmQueries.map((q) => q.medianMs)).toEqual([4, 8]);
    expect(m.compactionCpuSec).toBeNull();
    expect(medianOfRounds([result('prometheus', { compactionCpuSec: 2 }), result('prometheus', { compactionCpuSec: 1 }), result('prometheus')]).compactionCpuSec).toBe(1.5);
    expect(m.queries).toEqual([
      { name: 'q1', medianMs: 10, resultSeries: 5, error: '' },
      { name: 'q2', medianMs: 20, resultSeries: 1, error: 'boom' },
    ]);
    expect(medianOfRounds([rounds[0]!])).toBe(rounds[0]);
  });

  it('lists every round with each system', () => {
    const lines = roundLines([[result('promstore', { samplesPerSec: 1500 }), result('prometheus')], [result('promstore'), result('prometheus', { cpuSecPerMSamples: 1.25 })]]);
    expect(lines).toEqual([
      'round 1: promstore 1,500 samples/s, 2.00 CPU s / M (2nd half 1.50); prometheus 100,000 samples/s, 2.00 CPU s / M (2nd half 1.50)',
      'round 2: promstore 100,000 samples/s, 2.00 CPU s / M (2nd half 1.50); prometheus 100,000 samples/s, 1.25 CPU s / M (2nd half 1.50)',
    ]);
  });
});

describe('write phase by halves', () => {
  const at = (ms: number, cpuSec: number, samples: number) => ({ ms, cpuSec, samples });

  it('splits rate and CPU at the middle reading', () => {
    // 1 M samples in 4 s on 3 CPU s, then 1 M in 2 s on 1 CPU s.
    const h = writeHalves(at(1000, 10, 0), at(5000, 13, 1e6), at(7000, 14, 2e6));
    expect(h.first.samplesPerSec).toBeCloseTo(250_000, 6);
    expect(h.first.cpuSecPerMSamples).toBeCloseTo(3, 9);
    expect(h.second.samplesPerSec).toBeCloseTo(500_000, 6);
    expect(h.second.cpuSecPerMSamples).toBeCloseTo(1, 9);
  });

  it('leaves the second half empty when the middle was never reached, and an empty half as NaN', () => {
    const h = writeHalves(at(0, 0, 0), null, at(2000, 1, 5e5));
    expect(h.first).toEqual({ samplesPerSec: 250_000, cpuSecPerMSamples: 2 });
    expect(h.second.samplesPerSec).toBeNaN();
    const stalled = writeHalves(at(0, 0, 0), at(1000, 1, 100), at(2000, 2, 100));
    expect(stalled.second.samplesPerSec).toBeNaN();
    expect(stalled.second.cpuSecPerMSamples).toBeNaN();
  });

  it('renders a row per system with ratios against promstore and the flush on its own', () => {
    const t = halvesTable([result('promstore'), result('prometheus', { halves: halves(5, 3), flushCpuSec: 0, compactionCpuSec: 1.5 })]).split('\n');
    expect(t[0]).toBe('| system | 1st half samples/s | 1st half CPU s / M | 2nd half samples/s | 2nd half CPU s / M | flush CPU s |');
    expect(t[2]).toBe('| promstore | 80,000 | 2.50 | 120,000 | 1.50 | 0.25 |');
    expect(t[3]).toBe('| prometheus | 80,000 (1.00×) | 5.00 (2.00×) | 120,000 (1.00×) | 3.00 (2.00×) | 0.00; snapshot 1.50 |');
  });
});
