import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, LimitsError, Overrides, parseRuntimeConfig } from './limits.js';

describe('parseRuntimeConfig', () => {
  it('maps snake_case keys (and Prometheus-style aliases) onto TenantLimits', () => {
    const o = parseRuntimeConfig(`
overrides:
  team-a:
    ingestion_rate: 500
    ingestion_burst_size: 1000
    label_limit: 12
    creation_grace_period: 1m
    reject_old_samples: true
    max_query_length: 7d
`);
    const a = o.forTenant('team-a');
    expect([a.ingestionRate, a.ingestionBurstSize, a.maxLabelNamesPerSeries, a.creationGracePeriodMs, a.rejectOldSamples, a.maxQueryLengthMs]).toEqual([
      500, 1000, 12, 60_000, true, 7 * 86_400_000,
    ]);
    expect(a.maxLabelValueLength).toBe(DEFAULT_LIMITS.maxLabelValueLength);
    expect(o.forTenant('other')).toBe(DEFAULT_LIMITS);
  });

  it('caches one frozen object per tenant', () => {
    const o = parseRuntimeConfig('overrides: {t: {sample_limit: 5}}');
    expect(o.forTenant('t')).toBe(o.forTenant('t'));
    expect(Object.isFrozen(o.forTenant('t'))).toBe(true);
  });

  it.each([
    ['unknown limit', 'overrides: {t: {no_such_limit: 1}}', 'overrides.t.no_such_limit: unknown limit'],
    ['negative count', 'overrides: {t: {sample_limit: -1}}', 'expected a non-negative integer'],
    ['bad duration', 'overrides: {t: {creation_grace_period: soon}}', 'expected a duration'],
    ['burst below rate', 'overrides: {t: {ingestion_rate: 100, ingestion_burst_size: 10}}', 'must be at least ingestion_rate'],
    ['not YAML', 'overrides: [oops', 'not valid YAML'],
    ['unknown top-level key', 'limits: {}', 'unknown key'],
  ])('%s is refused with every problem listed', (_name, text, problem) => {
    let err: unknown;
    try {
      parseRuntimeConfig(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LimitsError);
    expect((err as LimitsError).problems.join('\n')).toContain(problem);
  });

  it('an empty file means no overrides', () => {
    expect(parseRuntimeConfig('').tenants()).toEqual([]);
    expect(new Overrides().forTenant('x')).toBe(DEFAULT_LIMITS);
  });
});

describe('deploy/runtime-config.yml', () => {
  it('is a valid runtime config', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('../deploy/runtime-config.yml', import.meta.url), 'utf8');
    const o = parseRuntimeConfig(text);
    expect(o.tenants()).toEqual(['demo', 'load', 'platform']);
    expect(o.forTenant('load').sampleLimit).toBe(0);
  });
});
