/**
 * X-Scope-OrgID → TenantId, with the Cortex tenant-id rules (limits-and-tenancy.md §1).
 * Shared by ingest and query so both accept exactly the same tenants.
 */
import { authenticate, authorize, soleTenant, type AuthConfig, type Principal } from './auth.js';
import { AppError, ErrorKind, clip } from './errors.js';
import type { TenantId } from './types.js';

/** Longest tenant id, in bytes (the allowed charset is ASCII, so bytes = characters). */
export const MAX_TENANT_ID_LENGTH = 150;

/** How to treat a request without a tenant header. */
export interface TenantOptions {
  /** When true a missing header is 401; when false the request goes to `defaultTenant`. */
  readonly requireTenantHeader: boolean;
  readonly defaultTenant: string;
}

// Cortex's safe set: alphanumerics and ! - _ . * ' ( )
const SAFE_CHAR = /^[a-zA-Z0-9!\-_.*'()]$/;

function invalid(code: string, message: string): AppError {
  return new AppError(ErrorKind.BadData, code, `${message} [err-${code}]`);
}

/**
 * Validates a tenant id; returns it unchanged or throws AppError (bad_data) with a Cortex-like message.
 * Multi-tenant ids (`a|b`) are rejected: they are only meaningful for federated reads.
 */
export function validateTenantId(id: string): TenantId {
  if (id.includes('|')) {
    throw invalid('tenant-id-multiple', `tenant ID '${clip(id)}' names several tenants; writes take exactly one`);
  }
  if (Buffer.byteLength(id, 'utf8') > MAX_TENANT_ID_LENGTH) {
    throw invalid('tenant-id-too-long', `tenant ID is too long: max ${MAX_TENANT_ID_LENGTH} characters`);
  }
  for (const ch of id) {
    if (!SAFE_CHAR.test(ch)) {
      throw invalid('tenant-id-invalid-char', `tenant ID '${clip(id)}' contains unsupported character '${ch}'`);
    }
  }
  if (id === '.' || id === '..') throw invalid('tenant-id-reserved', "tenant ID is '.' or '..'");
  if (id === '__markers__') throw invalid('tenant-id-reserved', "tenant ID '__markers__' is reserved");
  return id;
}

/**
 * Resolves the tenant of a request from its X-Scope-OrgID header value. A missing or empty header
 * yields `defaultTenant`, or 401 `missing-tenant` when the header is required.
 */
export function resolveTenant(headerValue: string | undefined, opts: TenantOptions): TenantId {
  const id = headerValue?.trim() ?? '';
  if (id === '') {
    if (opts.requireTenantHeader) {
      throw new AppError(ErrorKind.Unauthenticated, 'missing-tenant', 'no org id [err-missing-tenant]');
    }
    return opts.defaultTenant;
  }
  return validateTenantId(id);
}

/** Separator of federated read tenants in X-Scope-OrgID (Cortex tenant federation). */
export const TENANT_SEPARATOR = '|';

/**
 * Resolves the tenants of a read request: `a|b` names several (Cortex tenant federation). Each id
 * is validated; the list is sorted and de-duplicated, as Cortex does. A missing header yields
 * `[defaultTenant]` or 401 as in resolveTenant.
 */
export function resolveReadTenants(headerValue: string | undefined, opts: TenantOptions): TenantId[] {
  const raw = headerValue?.trim() ?? '';
  if (!raw.includes(TENANT_SEPARATOR)) return [resolveTenant(raw, opts)];
  const ids = new Set<string>();
  for (const part of raw.split(TENANT_SEPARATOR)) {
    if (part === '') throw invalid('tenant-id-empty', `tenant ID list '${clip(raw)}' contains an empty tenant`);
    ids.add(validateTenantId(part));
  }
  return [...ids].sort();
}

/** What a request presents: the X-Scope-OrgID and Authorization header values. */
export interface RequestCredentials {
  readonly orgId: string | undefined;
  readonly authorization: string | undefined;
}

/**
 * The tenants a request acts for, after optional authentication: with `auth` set, credentials
 * are checked first (401), a request without X-Scope-OrgID uses the principal's only tenant if it
 * has exactly one, and every resulting tenant must be granted (403). `multiple` allows `a|b`.
 */
export function requestTenants(creds: RequestCredentials, opts: TenantOptions, auth: AuthConfig | null, multiple: boolean): TenantId[] {
  let orgId = creds.orgId;
  let principal: Principal | null = null;
  if (auth !== null) {
    principal = authenticate(auth, creds.authorization);
    if ((orgId?.trim() ?? '') === '') orgId = soleTenant(principal) ?? orgId;
  }
  const tenants = multiple ? resolveReadTenants(orgId, opts) : [resolveTenant(orgId, opts)];
  if (principal !== null) authorize(principal, tenants);
  return tenants;
}
