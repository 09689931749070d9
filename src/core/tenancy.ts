import type { FastifyRequest } from 'fastify';
import type { Db } from './db.js';
import { AppError, type FieldErrors } from './errors.js';

/**
 * Who a request acts as and for which account. Set by core/auth.ts before validation; read by access checks,
 * the throttle, idempotency, resources and services. A request acts for exactly one account (or none: a staff
 * user without one, or an anonymous caller on a public route).
 */

export const ROLES = ['owner', 'admin', 'editor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
export const API_KEY_SCOPES = ['read', 'write', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface RequestContext {
  scheme: 'jwt' | 'api_key' | 'session' | 'basic';
  user: { id: number; email: string; is_staff: boolean; is_superuser: boolean } | null;
  apiKey: { id: number; prefix: string; name: string; scopes: ApiKeyScope[]; site_id: number | null } | null;
  /** The login session behind a JWT or cookie; null for API keys and Basic auth. */
  sessionId: number | null;
  accountId: number | null;
  /** The effective role: the membership's, or what an API key's scopes amount to. */
  role: Role | null;
  /** Sites this caller may reach; null means every site of the account. */
  siteIds: number[] | null;
  /**
   * Who acts, for the events log, when it is not the API caller in person: `automation` for a run acting through
   * the API's own rules as the user who started it. Absent for requests (`api`).
   */
  agent?: 'automation';
}

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext | null;
  }
}

/** The context of a route that requires an account (access checks have already run). */
export function accountContext(request: FastifyRequest): RequestContext & { accountId: number } {
  const ctx = request.ctx;
  if (!ctx || ctx.accountId === null) {
    throw new AppError('permission_denied', 'This route acts for an account, and you are not signed in to one.');
  }
  return ctx as RequestContext & { accountId: number };
}

export function canReachSite(ctx: RequestContext, siteId: number): boolean {
  return ctx.siteIds === null || ctx.siteIds.includes(siteId);
}

/**
 * Checks a body's `site_id`/`sector_id` against the caller: the site must be the account's and reachable, the
 * sector must belong to that site. Implemented by the account module (it owns sites); resources receive it.
 */
export interface SiteAccess {
  check(
    db: Db,
    ctx: RequestContext & { accountId: number },
    siteId: number,
    sectorId: number | null,
  ): Promise<FieldErrors | null>;
}
