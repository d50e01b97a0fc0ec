/**
 * Tenant of a read request from `X-Scope-OrgID`; the rules live in common/tenant.ts, shared with ingest.
 */
import { resolveTenant, type TenantOptions } from '../../common/tenant.js';
import type { TenantId } from '../../common/types.js';

export { validateTenantId } from '../../common/tenant.js';

/** Header carrying the tenant (Fastify lowercases header names). */
export const TENANT_HEADER = 'x-scope-orgid';

/** How requests without the header are treated. */
export type TenantPolicy = TenantOptions;

/**
 * The tenant of a request from the raw header value. Missing or empty → `defaultTenant`, or 401
 * `no org id` (code `missing-tenant`) when the header is required. Several tenants (`a|b`
 * federation) are not supported yet and are rejected.
 */
export function tenantFromHeader(header: string | string[] | undefined, policy: TenantPolicy): TenantId {
  // Node joins repeated custom headers with ", ", which then fails validation; arrays only come from inject().
  const value = Array.isArray(header) ? header.join(', ') : header;
  return resolveTenant(value, policy);
}
