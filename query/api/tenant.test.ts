import { describe, expect, it } from 'vitest';
import { AppError, toHttpStatus } from '../../common/errors.js';
import { tenantFromHeader, validateTenantId } from './tenant.js';

const OPTIONAL = { requireTenantHeader: false, defaultTenant: 'anonymous' };
const REQUIRED = { requireTenantHeader: true, defaultTenant: 'anonymous' };

function failure(fn: () => unknown): { status: number; message: string } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return { status: toHttpStatus(err as AppError), message: (err as AppError).message };
  }
  throw new Error('expected a throw');
}

describe('tenantFromHeader', () => {
  it.each<[string | undefined, typeof OPTIONAL, string]>([
    [undefined, OPTIONAL, 'anonymous'],
    ['', OPTIONAL, 'anonymous'],
    ['team-a', OPTIONAL, 'team-a'],
    ['team-a', REQUIRED, 'team-a'],
    ["a!_.*'()-Z9", REQUIRED, "a!_.*'()-Z9"],
    ['x'.repeat(150), REQUIRED, 'x'.repeat(150)],
  ])('%j (required=%j) → %j', (header, policy, want) => {
    expect(tenantFromHeader(header, policy)).toBe(want);
  });

  it.each<[string | undefined, number, string]>([
    [undefined, 401, 'no org id'],
    ['', 401, 'no org id'],
    ['x'.repeat(151), 400, 'tenant ID is too long: max 150 characters'],
    ['a/b', 400, "tenant ID 'a/b' contains unsupported character '/'"],
    ['a|b', 400, "tenant ID 'a|b' names several tenants"],
    ['a b', 400, "tenant ID 'a b' contains unsupported character ' '"],
    ['.', 400, "tenant ID is '.' or '..'"],
    ['..', 400, "tenant ID is '.' or '..'"],
    ['__markers__', 400, "tenant ID '__markers__' is reserved"],
  ])('%j fails with %i %s', (header, status, message) => {
    const got = failure(() => tenantFromHeader(header, REQUIRED));
    expect(got.status).toBe(status);
    expect(got.message).toContain(message);
  });

  it('validates ids directly', () => {
    expect(validateTenantId('ok')).toBe('ok');
    expect(failure(() => validateTenantId('ü')).status).toBe(400);
  });
});
