import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { resolveTenant } from './tenant.js';

const OPTIONAL = { requireTenantHeader: false, defaultTenant: 'anonymous' };
const REQUIRED = { requireTenantHeader: true, defaultTenant: 'anonymous' };

describe('resolveTenant', () => {
  it.each([
    { header: undefined, opts: OPTIONAL, want: 'anonymous' },
    { header: '', opts: OPTIONAL, want: 'anonymous' },
    { header: 'team-a', opts: OPTIONAL, want: 'team-a' },
    { header: 'team-a', opts: REQUIRED, want: 'team-a' },
    { header: "Az09!-_.*'()", opts: REQUIRED, want: "Az09!-_.*'()" },
    { header: 'x'.repeat(150), opts: REQUIRED, want: 'x'.repeat(150) },
    { header: '...', opts: REQUIRED, want: '...' },
  ])('accepts $header', ({ header, opts, want }) => {
    expect(resolveTenant(header, opts)).toBe(want);
  });

  it.each([
    { header: undefined, code: 'missing-tenant', kind: 'unauthenticated', text: 'no org id' },
    { header: '', code: 'missing-tenant', kind: 'unauthenticated', text: 'no org id' },
    { header: 'x'.repeat(151), code: 'tenant-id-too-long', kind: 'bad_data', text: 'tenant ID is too long: max 150 characters' },
    { header: 'a b', code: 'tenant-id-invalid-char', kind: 'bad_data', text: "tenant ID 'a b' contains unsupported character ' '" },
    { header: 'é', code: 'tenant-id-invalid-char', kind: 'bad_data', text: "unsupported character 'é'" },
    { header: 'a:b', code: 'tenant-id-invalid-char', kind: 'bad_data', text: "unsupported character ':'" },
    { header: '.', code: 'tenant-id-reserved', kind: 'bad_data', text: "tenant ID is '.' or '..'" },
    { header: '..', code: 'tenant-id-reserved', kind: 'bad_data', text: "tenant ID is '.' or '..'" },
    { header: '__markers__', code: 'tenant-id-reserved', kind: 'bad_data', text: 'reserved' },
    { header: 'a|b', code: 'tenant-id-multiple', kind: 'bad_data', text: 'writes take exactly one' },
  ])('rejects $header with $code', ({ header, code, kind, text }) => {
    let caught: unknown;
    try {
      resolveTenant(header, REQUIRED);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    const err = caught as AppError;
    expect([err.code, err.kind]).toEqual([code, kind]);
    expect(err.message).toContain(text);
    expect(err.message).toMatch(new RegExp(`\\[err-${code}\\]$`));
  });
});
