import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/errors.js';
import { DEFAULT_DURATION_SEC, isLoopbackHost, parseGeneratorArgs } from './options.js';

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['api.localhost', true],
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['[::1]', true],
    ['[::ffff:7f00:1]', true],
    ['0.0.0.0', false],
    ['10.0.0.1', false],
    ['128.0.0.1', false],
    ['[::2]', false],
    ['[::ffff:a00:1]', false],
    ['example.com', false],
    ['localhost.example.com', false],
    ['127.0.0.1.nip.io', false],
  ])('%s → %s', (host, want) => {
    expect(isLoopbackHost(host)).toBe(want);
  });

  it('agrees with how URL normalises an IPv4-mapped loopback address', () => {
    expect(isLoopbackHost(new URL('http://[::ffff:127.0.0.1]:9009/').hostname)).toBe(true);
  });
});

describe('parseGeneratorArgs', () => {
  it('applies defaults', () => {
    const o = parseGeneratorArgs([]);
    expect(o.url.toString()).toBe('http://127.0.0.1:9009/api/v1/push');
    expect(o).toMatchObject({
      series: 10_000,
      samplesPerRequest: 2000,
      samplesPerSeries: 1,
      concurrency: 4,
      durationSec: DEFAULT_DURATION_SEC,
      requests: 0,
      intervalMs: 15_000,
      tenant: 'load',
      seed: 1,
      startMs: undefined,
      json: false,
      allowRemote: false,
      maxErrors: 1000,
      maxPayloadBytes: 64 * 1024 * 1024,
    });
  });

  it.each([
    { name: '--requests disables the default duration', args: ['--requests', '50'], want: { requests: 50, durationSec: 0 } },
    { name: 'both bounds kept', args: ['--requests=50', '--duration=5'], want: { requests: 50, durationSec: 5 } },
    { name: 'numbers', args: ['--series', '7', '--samples-per-request', '70', '--samples-per-series', '2', '--concurrency', '3', '--interval-ms', '1000', '--seed', '9', '--start-ms', '123000'], want: { series: 7, samplesPerRequest: 70, samplesPerSeries: 2, concurrency: 3, intervalMs: 1000, seed: 9, startMs: 123000 } },
    { name: 'empty tenant omits the header', args: ['--tenant', ''], want: { tenant: '' } },
    { name: 'flags', args: ['--json', '--help'], want: { json: true, help: true } },
    { name: 'remote allowed', args: ['--url', 'http://10.1.2.3:8428/api/v1/write', '--allow-remote'], want: { allowRemote: true } },
  ])('parses $name', ({ args, want }) => {
    expect(parseGeneratorArgs(args)).toMatchObject(want);
  });

  it.each([
    { name: 'unknown flag', args: ['--bogus'], msg: /bogus/ },
    { name: 'positional', args: ['extra'], msg: /extra/ },
    { name: 'zero series', args: ['--series', '0'], msg: /--series/ },
    { name: 'not a number', args: ['--concurrency', 'four'], msg: /--concurrency/ },
    { name: 'fraction', args: ['--requests', '1.5'], msg: /--requests/ },
    { name: 'empty number', args: ['--duration', ''], msg: /--duration/ },
    { name: 'non-loopback url', args: ['--url', 'http://10.0.0.1:9009/api/v1/push'], msg: /loopback/ },
    { name: 'bad scheme', args: ['--url', 'ftp://127.0.0.1/'], msg: /http/ },
    { name: 'not a url', args: ['--url', 'nope'], msg: /not a URL/ },
    { name: 'bad prefix', args: ['--metric-prefix', '9x'], msg: /metric-prefix/ },
  ])('rejects $name', ({ args, msg }) => {
    let caught: unknown;
    try {
      parseGeneratorArgs(args);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe('bad-load-option');
    expect((caught as AppError).message).toMatch(msg);
  });

  it('reads the workload-shape and payload flags', () => {
    expect(parseGeneratorArgs([])).toMatchObject({ histograms: false, churnSteps: 0, writePayloads: '' });
    expect(parseGeneratorArgs(['--histograms', '--churn-steps', '40', '--write-payloads', '/tmp/p'])).toMatchObject({ histograms: true, churnSteps: 40, writePayloads: '/tmp/p' });
    expect(() => parseGeneratorArgs(['--churn-steps', '-1'])).toThrow(AppError);
  });
});
