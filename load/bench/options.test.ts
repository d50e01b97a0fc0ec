import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/errors.js';
import { parseBenchArgs, stepsOf } from './options.js';

describe('parseBenchArgs', () => {
  it('applies the defaults of the issue: 20k series, 2 h at 15 s, 2000 samples/request, 4 writers, all systems', () => {
    const o = parseBenchArgs([]);
    expect(o).toMatchObject({
      systems: ['promstore', 'prometheus', 'victoriametrics'],
      shapes: ['batch', 'live'],
      series: 20_000,
      dataDurationMs: 7_200_000,
      intervalMs: 15_000,
      samplesPerRequest: 2000,
      concurrency: 4,
      memorySeries: [100_000],
      resultsFile: 'load/RESULTS.md',
      cpuProfDir: '',
      rounds: 1,
    });
    expect(stepsOf(o)).toBe(480);
  });

  it.each([
    { args: ['--systems', 'prometheus,promstore'], want: { systems: ['prometheus', 'promstore'] } },
    { args: ['--shape', 'churn'], want: { shapes: ['churn'] } },
    { args: ['--shape', ''], want: { shapes: [] } },
    { args: ['--data-duration', '30m', '--interval', '10s'], want: { dataDurationMs: 1_800_000, intervalMs: 10_000 } },
    { args: ['--data-duration', '90'], want: { dataDurationMs: 90_000 } },
    { args: ['--memory-series', '100000,1000000'], want: { memorySeries: [100_000, 1_000_000] } },
    { args: ['--memory-series', ''], want: { memorySeries: [] } },
    { args: ['--results', ''], want: { resultsFile: '' } },
    { args: ['--rounds', '3'], want: { rounds: 3 } },
  ])('reads $args', ({ args, want }) => {
    expect(parseBenchArgs(args)).toMatchObject(want);
  });

  it.each([
    ['--systems', 'mimir'],
    ['--series', '0'],
    ['--rounds', '0'],
    ['--data-duration', 'soon'],
    ['--interval', '1h', '--data-duration', '30m'],
    ['--concurrency', '1.5'],
    ['--bogus'],
  ])('rejects %s %s', (...args) => {
    expect(() => parseBenchArgs(args)).toThrow(AppError);
  });
});
