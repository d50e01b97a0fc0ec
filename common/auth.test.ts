import { describe, expect, it } from 'vitest';
import { authenticate, authorize, hashSecret, parseAuthConfig, soleTenant } from './auth.js';
import { requestTenants } from './tenant.js';
import { caught } from '../test/helpers/errors.js';

const FILE = `
tokens:
  - name: prom
    token: "tok-plain"
    tenants: [a]
  - token_sha256: "${hashSecret('tok-hashed')}"
    tenants: [a, b]
users:
  - username: admin
    password: "pw"
    tenants: ["*"]
`;
const cfg = parseAuthConfig(FILE);
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

const failure = caught;

describe('authenticate', () => {
  it.each([
    ['Bearer tok-plain', 'prom'],
    ['bearer tok-hashed', 'token#1'],
    [basic('admin', 'pw'), 'admin'],
  ])('%s → %s', (header, name) => {
    expect(authenticate(cfg, header).name).toBe(name);
  });

  it.each([
    [undefined, 'auth-missing'],
    ['', 'auth-missing'],
    ['Bearer wrong', 'auth-invalid'],
    ['Bearer', 'auth-invalid'],
    [basic('admin', 'nope'), 'auth-invalid'],
    [basic('ghost', 'pw'), 'auth-invalid'],
    ['Digest abc', 'auth-invalid'],
  ])('%s → 401 %s', (header, code) => {
    const err = failure(() => authenticate(cfg, header));
    expect([err.kind, err.code]).toEqual(['unauthenticated', code]);
    expect(err.message).not.toContain('tok-plain');
  });
});

describe('authorize and requestTenants', () => {
  it('grants listed tenants, "*" grants all, others are 403', () => {
    const prom = authenticate(cfg, 'Bearer tok-plain');
    expect(() => authorize(prom, ['a'])).not.toThrow();
    const err = failure(() => authorize(prom, ['a', 'b']));
    expect([err.kind, err.code]).toEqual(['forbidden', 'tenant-forbidden']);
    expect(() => authorize(authenticate(cfg, basic('admin', 'pw')), ['x', 'y'])).not.toThrow();
    expect(soleTenant(prom)).toBe('a');
  });

  it.each<[string | undefined, string | undefined, boolean, string[] | string]>([
    [undefined, 'Bearer tok-plain', false, ['a']],
    ['b', 'Bearer tok-plain', false, 'tenant-forbidden'],
    ['b|a|b', 'Bearer tok-hashed', true, ['a', 'b']],
    ['a|b', 'Bearer tok-plain', true, 'tenant-forbidden'],
    ['a', undefined, false, 'auth-missing'],
  ])('org %s with %s (multi %s) → %j', (orgId, authorization, multiple, want) => {
    const opts = { requireTenantHeader: false, defaultTenant: 'anonymous' };
    if (Array.isArray(want)) expect(requestTenants({ orgId, authorization }, opts, cfg, multiple)).toEqual(want);
    else expect(failure(() => requestTenants({ orgId, authorization }, opts, cfg, multiple)).code).toBe(want);
  });

  it('without an auth file only the header counts', () => {
    expect(requestTenants({ orgId: 'z|y', authorization: undefined }, { requireTenantHeader: false, defaultTenant: 'anonymous' }, null, true)).toEqual(['y', 'z']);
  });
});

describe('parseAuthConfig', () => {
  it.each([
    ['tokens: [{token: x}]', 'tenants'],
    ['tokens: [{token: x, token_sha256: abc, tenants: [a]}]', 'exactly one of token'],
    ['users: [{username: "a:b", password: x, tenants: [a]}]', 'username'],
    ['{}', 'no tokens and no users'],
  ])('%s is refused (%s)', (text, problem) => {
    expect(() => parseAuthConfig(text)).toThrow(problem);
  });
});
