import type { FastifyRequest } from 'fastify';
import { AppError } from './errors.js';
import type { RequestContext, Role } from './tenancy.js';

/**
 * Each route declares who may call it in its `config.access`; the check runs before validation, so the
 * contract's order holds (401, then 403, then 400). The default is `read`: a member of an account.
 *  - public: anyone;  authenticated: any signed-in caller, with or without an account
 *  - read / write / admin / owner: a member of the account whose role reaches that level
 *    (viewer reads; editor writes; admin manages; owner owns). API keys: scope read → viewer,
 *    write → editor, admin → admin.
 *  - staff / superuser: platform staff, outside accounts.
 */
export type Access = 'public' | 'authenticated' | 'read' | 'write' | 'admin' | 'owner' | 'staff' | 'superuser';

const ROLE_RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };
const NEEDED_RANK = { read: 0, write: 1, admin: 2, owner: 3 } as const;

export function roleReaches(role: Role | null, needed: 'read' | 'write' | 'admin' | 'owner'): boolean {
  return role !== null && ROLE_RANK[role] >= NEEDED_RANK[needed];
}

export function checkAccess(request: FastifyRequest, access: Access): void {
  if (access === 'public') return;
  const ctx: RequestContext | null = request.ctx;
  if (!ctx) {
    throw new AppError('not_authenticated', 'Authentication credentials were not provided.', {
      headers: { 'WWW-Authenticate': 'Bearer realm="api"' },
    });
  }
  if (access === 'authenticated') return;
  if (access === 'staff' || access === 'superuser') {
    const allowed = access === 'staff' ? ctx.user?.is_staff || ctx.user?.is_superuser : ctx.user?.is_superuser;
    if (!allowed) throw new AppError('permission_denied', `This route is for platform ${access}.`);
    return;
  }
  if (ctx.accountId === null) {
    throw new AppError('permission_denied', 'This route acts for an account, and you are not a member of one.');
  }
  if (!roleReaches(ctx.role, access)) {
    const what = ctx.apiKey
      ? `This API key's scopes (${ctx.apiKey.scopes.join(', ')}) do not allow this`
      : `Your role (${ctx.role}) does not allow this`;
    throw new AppError('permission_denied', `${what}; it needs ${access === 'read' ? 'read' : `${access}`} access.`);
  }
}
