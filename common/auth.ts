/**
 * Optional authentication (off unless --auth.file is given): a YAML file maps bearer tokens and
 * basic-auth users to the tenants they may use.
 *
 * ```yaml
 * tokens:
 *   - name: prometheus-a          # optional; appears in logs instead of the secret
 *     token: "s3cret"             # or token_sha256: "<64 hex chars>"
 *     tenants: [team-a]
 * users:
 *   - username: grafana
 *     password_sha256: "<hex>"    # or password: "plain"
 *     tenants: ["team-a", "team-b"]   # "*" = every tenant
 * ```
 *
 * Secrets are held only as SHA-256 digests (plain ones are hashed at load) and compared with
 * crypto.timingSafeEqual on digests, so comparison time does not depend on where a guess differs.
 * Nothing here logs or echoes a secret.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { AppError, ErrorKind, clip } from './errors.js';
import type { TenantId } from './types.js';

/** Who a request authenticated as, and what it may touch. */
export interface Principal {
  /** A name safe to log (token name or username; never the secret). */
  readonly name: string;
  /** Granted tenants; `null` = every tenant (`"*"`). */
  readonly tenants: ReadonlySet<TenantId> | null;
}

interface TokenEntry {
  readonly principal: Principal;
  readonly digest: Buffer;
}

interface UserEntry {
  readonly principal: Principal;
  readonly digest: Buffer;
}

/** A parsed auth file. */
export interface AuthConfig {
  readonly tokens: readonly TokenEntry[];
  readonly users: ReadonlyMap<string, UserEntry>;
}

const HEX64 = /^[0-9a-fA-F]{64}$/;
/** Compared against for unknown users so that a miss costs the same as a wrong password. */
const DUMMY_DIGEST = createHash('sha256').update('promstore-no-such-user').digest();

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Lowercase hex SHA-256 of a secret: what to put in `token_sha256` / `password_sha256`. */
export function hashSecret(secret: string): string {
  return sha256(secret).toString('hex');
}

function secretDigest(entry: Record<string, unknown>, plainKey: string, where: string, problems: string[]): Buffer | null {
  const plain = entry[plainKey];
  const hashed = entry[`${plainKey}_sha256`];
  if (typeof plain === 'string' && plain !== '' && hashed === undefined) return sha256(plain);
  if (typeof hashed === 'string' && HEX64.test(hashed) && plain === undefined) return Buffer.from(hashed, 'hex');
  problems.push(`${where}: needs exactly one of ${plainKey} (non-empty) or ${plainKey}_sha256 (64 hex chars)`);
  return null;
}

function tenantsOf(entry: Record<string, unknown>, where: string, problems: string[]): ReadonlySet<TenantId> | null {
  const raw = entry['tenants'];
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((t) => typeof t === 'string' && t !== '')) {
    problems.push(`${where}.tenants: expected a non-empty list of tenant ids (or "*")`);
    return new Set();
  }
  if (raw.includes('*')) return null;
  return new Set(raw as string[]);
}

/** Parses an auth file; throws an Error listing every problem (never including a secret). */
export function parseAuthConfig(text: string): AuthConfig {
  const problems: string[] = [];
  const doc = (parseYaml(text) ?? {}) as Record<string, unknown>;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('auth file: expected a mapping with `tokens` and/or `users`');
  const tokens: TokenEntry[] = [];
  const users = new Map<string, UserEntry>();
  const rawTokens = doc['tokens'] ?? [];
  const rawUsers = doc['users'] ?? [];
  if (!Array.isArray(rawTokens)) problems.push('tokens: expected a list');
  else {
    rawTokens.forEach((e: unknown, i) => {
      const where = `tokens[${i}]`;
      if (e === null || typeof e !== 'object') return void problems.push(`${where}: expected a mapping`);
      const entry = e as Record<string, unknown>;
      const digest = secretDigest(entry, 'token', where, problems);
      const name = typeof entry['name'] === 'string' && entry['name'] !== '' ? entry['name'] : `token#${i}`;
      const tenants = tenantsOf(entry, where, problems);
      if (digest !== null) tokens.push({ digest, principal: { name, tenants } });
    });
  }
  if (!Array.isArray(rawUsers)) problems.push('users: expected a list');
  else {
    rawUsers.forEach((e: unknown, i) => {
      const where = `users[${i}]`;
      if (e === null || typeof e !== 'object') return void problems.push(`${where}: expected a mapping`);
      const entry = e as Record<string, unknown>;
      const username = entry['username'];
      if (typeof username !== 'string' || username === '' || username.includes(':')) {
        return void problems.push(`${where}.username: expected a non-empty string without ':'`);
      }
      if (users.has(username)) return void problems.push(`${where}.username: duplicate user ${JSON.stringify(username)}`);
      const digest = secretDigest(entry, 'password', where, problems);
      const tenants = tenantsOf(entry, where, problems);
      if (digest !== null) users.set(username, { digest, principal: { name: username, tenants } });
    });
  }
  if (tokens.length === 0 && users.size === 0) problems.push('no tokens and no users: every request would be refused');
  if (problems.length > 0) throw new Error(`auth file:\n  ${problems.join('\n  ')}`);
  return { tokens, users };
}

function unauthenticated(code: string, message: string): AppError {
  return new AppError(ErrorKind.Unauthenticated, code, `${message} [err-${code}]`);
}

/**
 * Authenticates an `Authorization` header value (`Bearer <token>` or `Basic <base64 user:pass>`).
 * Throws unauthenticated (401) `auth-missing` / `auth-invalid`. Every configured token is compared
 * (no early exit), each in constant time.
 */
export function authenticate(config: AuthConfig, authorization: string | undefined): Principal {
  const header = authorization?.trim() ?? '';
  if (header === '') throw unauthenticated('auth-missing', 'missing credentials: send a bearer token or basic auth');
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'bearer' && value !== '') {
    const digest = sha256(value);
    let found: Principal | null = null;
    for (const t of config.tokens) {
      if (timingSafeEqual(digest, t.digest) && found === null) found = t.principal;
    }
    if (found !== null) return found;
  } else if (scheme === 'basic' && value !== '') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      const user = config.users.get(decoded.slice(0, colon));
      const digest = sha256(decoded.slice(colon + 1));
      const ok = timingSafeEqual(digest, user?.digest ?? DUMMY_DIGEST);
      if (ok && user !== undefined) return user.principal;
    }
  }
  throw unauthenticated('auth-invalid', 'invalid credentials');
}

/** Throws forbidden (403) `tenant-forbidden` unless `principal` may use every tenant in `tenants`. */
export function authorize(principal: Principal, tenants: readonly TenantId[]): void {
  if (principal.tenants === null) return;
  for (const t of tenants) {
    if (!principal.tenants.has(t)) {
      throw new AppError(
        ErrorKind.Forbidden,
        'tenant-forbidden',
        `${JSON.stringify(clip(principal.name))} may not access tenant ${JSON.stringify(clip(t))} [err-tenant-forbidden]`,
      );
    }
  }
}

/** The tenant to use when a request names none: the principal's only tenant, if it has exactly one. */
export function soleTenant(principal: Principal): TenantId | undefined {
  if (principal.tenants === null || principal.tenants.size !== 1) return undefined;
  return principal.tenants.values().next().value;
}
