import { and, asc, eq, gt, gte, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { type ListQuery, type ListResult, type ListSpec, runList } from '../../core/lists.js';
import {
  auth_accounts,
  auth_industries,
  auth_memberships,
  auth_password_resets,
  auth_refresh_tokens,
  auth_sectors,
  auth_sessions,
  auth_sites,
  auth_users,
} from './auth.tables.js';

/** Queries of identity: users and sessions belong to a person, not an account; the rest take the account id. */

export type UserRow = typeof auth_users.$inferSelect;
export type AccountRow = typeof auth_accounts.$inferSelect;
export type SessionRow = typeof auth_sessions.$inferSelect;

export async function userByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(auth_users).where(sql`lower(${auth_users.email}) = ${email.trim().toLowerCase()}`);
  return row;
}

export async function userById(db: Db, id: number): Promise<UserRow | undefined> {
  const [row] = await db.select().from(auth_users).where(eq(auth_users.id, id));
  return row;
}

export async function insertUser(db: Db, values: typeof auth_users.$inferInsert): Promise<UserRow> {
  const [row] = await db.insert(auth_users).values(values).returning();
  return row as UserRow;
}

export async function updateUser(db: Db, id: number, values: Partial<typeof auth_users.$inferInsert>): Promise<void> {
  await db
    .update(auth_users)
    .set({ ...values, updated_at: new Date() })
    .where(eq(auth_users.id, id));
}

export async function accountById(db: Db, accountId: number): Promise<AccountRow | undefined> {
  const [row] = await db.select().from(auth_accounts).where(eq(auth_accounts.id, accountId));
  return row;
}

export async function accountSlugTaken(db: Db, slug: string): Promise<boolean> {
  const rows = await db.select({ id: auth_accounts.id }).from(auth_accounts).where(eq(auth_accounts.slug, slug));
  return rows.length > 0;
}

export async function insertAccount(db: Db, values: typeof auth_accounts.$inferInsert): Promise<AccountRow> {
  const [row] = await db.insert(auth_accounts).values(values).returning();
  return row as AccountRow;
}

export async function insertMembership(db: Db, values: typeof auth_memberships.$inferInsert) {
  const [row] = await db.insert(auth_memberships).values(values).returning();
  return row;
}

export async function membership(db: Db, accountId: number, userId: number) {
  const [row] = await db
    .select({ role: auth_memberships.role, site_ids: auth_memberships.site_ids })
    .from(auth_memberships)
    .where(and(eq(auth_memberships.account_id, accountId), eq(auth_memberships.user_id, userId)));
  return row;
}

/** The user's accounts with their role in each, oldest membership first. */
export async function membershipsOfUser(db: Db, userId: number) {
  return db
    .select({
      id: auth_accounts.id,
      name: auth_accounts.name,
      slug: auth_accounts.slug,
      role: auth_memberships.role,
      joined_at: auth_memberships.created_at,
    })
    .from(auth_memberships)
    .innerJoin(auth_accounts, eq(auth_accounts.id, auth_memberships.account_id))
    .where(eq(auth_memberships.user_id, userId))
    .orderBy(asc(auth_memberships.id));
}

// ---------------------------------------------------------------------------------------------------------
// Sessions and refresh tokens

export async function touchSession(db: Db, id: number, at: Date): Promise<void> {
  await db.update(auth_sessions).set({ last_used_at: at }).where(eq(auth_sessions.id, id));
}

export async function insertSession(db: Db, values: typeof auth_sessions.$inferInsert): Promise<SessionRow> {
  const [row] = await db.insert(auth_sessions).values(values).returning();
  return row as SessionRow;
}

export async function sessionById(db: Db, id: number): Promise<SessionRow | undefined> {
  const [row] = await db.select().from(auth_sessions).where(eq(auth_sessions.id, id));
  return row;
}

export async function sessionByCookieHash(db: Db, hash: string): Promise<SessionRow | undefined> {
  const [row] = await db.select().from(auth_sessions).where(eq(auth_sessions.cookie_hash, hash));
  return row;
}

export async function activeSessionsOfUser(db: Db, userId: number): Promise<SessionRow[]> {
  return db
    .select()
    .from(auth_sessions)
    .where(and(eq(auth_sessions.user_id, userId), isNull(auth_sessions.revoked_at), gt(auth_sessions.expires_at, new Date())))
    .orderBy(asc(auth_sessions.id));
}

/** Revokes one live session; `userId` null when possession of its refresh token already proves ownership. */
/** The session revoked (for its event), or null when there was no such live session. */
export async function revokeSession(
  db: Db,
  userId: number | null,
  sessionId: number,
  reason: string,
): Promise<{ id: number; user_id: number; account_id: number | null } | null> {
  const rows = await db
    .update(auth_sessions)
    .set({ revoked_at: new Date(), revoked_reason: reason, updated_at: new Date() })
    .where(
      and(
        eq(auth_sessions.id, sessionId),
        userId === null ? undefined : eq(auth_sessions.user_id, userId),
        isNull(auth_sessions.revoked_at),
      ),
    )
    .returning({ id: auth_sessions.id, user_id: auth_sessions.user_id, account_id: auth_sessions.account_id });
  return rows[0] ?? null;
}

/** Revokes every live session of a user but one (kept: the caller's own, after a password change). */
export async function revokeSessionsOfUser(
  db: Db,
  userId: number,
  reason: string,
  keepSessionId: number | null,
): Promise<number[]> {
  const rows = await db
    .update(auth_sessions)
    .set({ revoked_at: new Date(), revoked_reason: reason, updated_at: new Date() })
    .where(
      and(
        eq(auth_sessions.user_id, userId),
        isNull(auth_sessions.revoked_at),
        keepSessionId === null ? undefined : sql`${auth_sessions.id} <> ${keepSessionId}`,
      ),
    )
    .returning({ id: auth_sessions.id });
  return rows.map((r) => r.id);
}

export async function setSessionAccount(db: Db, sessionId: number, accountId: number | null): Promise<void> {
  await db
    .update(auth_sessions)
    .set({ account_id: accountId, last_used_at: new Date(), updated_at: new Date() })
    .where(eq(auth_sessions.id, sessionId));
}

export async function insertRefreshToken(db: Db, sessionId: number, tokenHash: string, expiresAt: Date): Promise<void> {
  await db.insert(auth_refresh_tokens).values({ session_id: sessionId, token_hash: tokenHash, expires_at: expiresAt });
}

export async function refreshTokenByHash(db: Db, hash: string) {
  const [row] = await db.select().from(auth_refresh_tokens).where(eq(auth_refresh_tokens.token_hash, hash));
  return row;
}

/** Marks a refresh token used; false when another request used it first (the race is reuse too). */
export async function useRefreshToken(db: Db, id: number): Promise<boolean> {
  const rows = await db
    .update(auth_refresh_tokens)
    .set({ used_at: new Date(), updated_at: new Date() })
    .where(and(eq(auth_refresh_tokens.id, id), isNull(auth_refresh_tokens.used_at)))
    .returning({ id: auth_refresh_tokens.id });
  return rows.length > 0;
}

// ---------------------------------------------------------------------------------------------------------
// Password resets

export async function insertPasswordReset(db: Db, userId: number, tokenHash: string, expiresAt: Date): Promise<void> {
  await db.insert(auth_password_resets).values({ user_id: userId, token_hash: tokenHash, expires_at: expiresAt });
}

/**
 * Retires every outstanding reset token of the user (marks it used), so at most one is ever alive: called when
 * a token is issued (before the new one is stored), used, or the password changes.
 */
export async function retirePasswordResets(db: Db, userId: number): Promise<void> {
  await db
    .update(auth_password_resets)
    .set({ used_at: new Date(), updated_at: new Date() })
    .where(and(eq(auth_password_resets.user_id, userId), isNull(auth_password_resets.used_at)));
}

/** Claims an unused, unexpired reset token; the user id, or null. */
export async function usePasswordReset(db: Db, tokenHash: string): Promise<number | null> {
  const rows = await db
    .update(auth_password_resets)
    .set({ used_at: new Date(), updated_at: new Date() })
    .where(
      and(
        eq(auth_password_resets.token_hash, tokenHash),
        isNull(auth_password_resets.used_at),
        gt(auth_password_resets.expires_at, new Date()),
      ),
    )
    .returning({ user_id: auth_password_resets.user_id });
  return rows[0]?.user_id ?? null;
}

// ---------------------------------------------------------------------------------------------------------
// Sites and sectors (tenant data: every query takes the account id)

export async function siteOfAccount(db: Db, accountId: number, siteId: number) {
  const [row] = await db
    .select({ id: auth_sites.id })
    .from(auth_sites)
    .where(and(eq(auth_sites.account_id, accountId), eq(auth_sites.id, siteId)));
  return row;
}

/** The URL of one of the account's sites. */
export async function siteUrl(db: Db, accountId: number, siteId: number): Promise<string | undefined> {
  const [row] = await db
    .select({ url: auth_sites.url })
    .from(auth_sites)
    .where(and(eq(auth_sites.account_id, accountId), eq(auth_sites.id, siteId)));
  return row?.url;
}

/** Which of these ids are the account's sites. */
export async function sitesOfAccount(db: Db, accountId: number, siteIds: number[]): Promise<number[]> {
  const rows = await db
    .select({ id: auth_sites.id })
    .from(auth_sites)
    .where(and(eq(auth_sites.account_id, accountId), inArray(auth_sites.id, siteIds)));
  return rows.map((r) => r.id);
}

export async function sectorOfAccount(db: Db, accountId: number, sectorId: number) {
  const [row] = await db
    .select({ id: auth_sectors.id, site_id: auth_sectors.site_id })
    .from(auth_sectors)
    .where(and(eq(auth_sectors.account_id, accountId), eq(auth_sectors.id, sectorId)));
  return row;
}

export async function countSites(db: Db, accountId: number): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(auth_sites).where(eq(auth_sites.account_id, accountId));
  return row?.n ?? 0;
}

/** Locks the account row so concurrent creations count against a plan limit one at a time. */
/** Locks the account's row (two concurrent additions cannot both pass the plan's cap) and answers its plan. */
export async function lockAccountPlanId(db: Db, accountId: number): Promise<number | undefined> {
  const [row] = await db
    .select({ plan_id: auth_accounts.plan_id })
    .from(auth_accounts)
    .where(eq(auth_accounts.id, accountId))
    .for('update');
  return row?.plan_id;
}

export async function industryBySlug(db: Db, slug: string) {
  const [row] = await db.select({ id: auth_industries.id }).from(auth_industries).where(eq(auth_industries.slug, slug));
  return row;
}

export async function slugsLike(
  db: Db,
  table: typeof auth_sites | typeof auth_sectors,
  scope: ReturnType<typeof eq>,
  base: string,
) {
  const rows = await db
    .select({ slug: table.slug })
    .from(table)
    .where(and(scope, sql`${table.slug} like ${`${base}%`}`));
  return new Set(rows.map((r) => r.slug));
}

/** The names of a site and its sector (empty when either is not the account's or they do not belong together). */
export async function siteSectorNames(
  db: Db,
  accountId: number,
  siteId: number,
  sectorId: number,
): Promise<{ site: string; sector: string }> {
  const [row] = await db
    .select({ site: auth_sites.name, sector: auth_sectors.name })
    .from(auth_sectors)
    .innerJoin(auth_sites, eq(auth_sites.id, auth_sectors.site_id))
    .where(and(eq(auth_sectors.account_id, accountId), eq(auth_sectors.id, sectorId), eq(auth_sites.id, siteId)));
  return row ?? { site: '', sector: '' };
}

/** What a static export of one of the account's sites shows of it: its names, URL and the account's slug. */
export async function exportedSite(db: Db, accountId: number, siteId: number) {
  const [row] = await db
    .select({
      id: auth_sites.id,
      name: auth_sites.name,
      slug: auth_sites.slug,
      url: auth_sites.url,
      description: auth_sites.description,
      account_slug: auth_accounts.slug,
    })
    .from(auth_sites)
    .innerJoin(auth_accounts, eq(auth_accounts.id, auth_sites.account_id))
    .where(and(eq(auth_sites.account_id, accountId), eq(auth_sites.id, siteId)));
  return row ?? null;
}

/** An active site of an active account named by the two slugs (account slugs are unique, site slugs per account). */
export async function activeSiteBySlugs(db: Db, accountSlug: string, siteSlug: string) {
  const [row] = await db
    .select({ account_id: auth_sites.account_id, site_id: auth_sites.id })
    .from(auth_sites)
    .innerJoin(auth_accounts, eq(auth_accounts.id, auth_sites.account_id))
    .where(
      and(
        eq(auth_accounts.slug, accountSlug),
        eq(auth_accounts.status, 'active'),
        eq(auth_sites.slug, siteSlug),
        eq(auth_sites.is_active, true),
      ),
    );
  return row ?? null;
}

// ---------------------------------------------------------------------------------------------------------
// The balance and the plan, as billing moves them (auth.balances.ts)

/** Locks the account's row for the rest of the transaction: every balance change of one account is serialised here. */
export async function lockCredits(tx: Db, accountId: number): Promise<number | undefined> {
  const [row] = await tx
    .select({ credits: auth_accounts.credits })
    .from(auth_accounts)
    .where(eq(auth_accounts.id, accountId))
    .for('update');
  return row?.credits;
}

export async function credits(db: Db, accountId: number): Promise<number | undefined> {
  const [row] = await db.select({ credits: auth_accounts.credits }).from(auth_accounts).where(eq(auth_accounts.id, accountId));
  return row?.credits;
}

/**
 * Moves the balance by `amount` unless that would take it below zero, in one conditional statement; returns
 * the new balance, or undefined when refused (or no such account).
 */
export async function moveCredits(tx: Db, accountId: number, amount: number): Promise<number | undefined> {
  const [row] = await tx
    .update(auth_accounts)
    .set({ credits: sql`${auth_accounts.credits} + ${amount}` })
    .where(and(eq(auth_accounts.id, accountId), gte(sql`${auth_accounts.credits} + ${amount}`, 0)))
    .returning({ credits: auth_accounts.credits });
  return row?.credits;
}

export async function setAccountPlan(tx: Db, accountId: number, planId: number): Promise<void> {
  await tx.update(auth_accounts).set({ plan_id: planId, updated_at: new Date() }).where(eq(auth_accounts.id, accountId));
}

/** How many accounts there are and the sum of their balances. */
export async function creditTotals(db: Db): Promise<{ accounts: number; outstanding_credits: number }> {
  const [row] = await db
    .select({ accounts: sql<number>`count(*)::int`, balance: sql<number>`coalesce(sum(${auth_accounts.credits}), 0)::bigint` })
    .from(auth_accounts);
  return { accounts: Number(row?.accounts ?? 0), outstanding_credits: Number(row?.balance ?? 0) };
}

/** An account as staff see it: its balance and plan (billing's `AccountBalances`). */
const STAFF_ACCOUNT = {
  id: auth_accounts.id,
  name: auth_accounts.name,
  slug: auth_accounts.slug,
  status: auth_accounts.status,
  plan_id: auth_accounts.plan_id,
  credits: auth_accounts.credits,
  created_at: auth_accounts.created_at,
  updated_at: auth_accounts.updated_at,
};
export type StaffAccountRow = { [K in keyof typeof STAFF_ACCOUNT]: (typeof STAFF_ACCOUNT)[K]['_']['data'] };

export async function accountWithCredits(db: Db, accountId: number): Promise<StaffAccountRow | undefined> {
  const [row] = await db.select(STAFF_ACCOUNT).from(auth_accounts).where(eq(auth_accounts.id, accountId));
  return row;
}

/** Every account, for staff: filtered by status, plan and balance, searched by name and slug. */
export const ACCOUNT_LIST: ListSpec = {
  filters: {
    status: { column: auth_accounts.status, kind: 'string', values: ['active', 'suspended'] },
    plan_id: { column: auth_accounts.plan_id, kind: 'integer' },
    credits: { column: auth_accounts.credits, kind: 'integer', range: true },
  },
  search: [auth_accounts.name, auth_accounts.slug],
  ordering: { created_at: auth_accounts.created_at, credits: auth_accounts.credits, name: auth_accounts.name },
};

export function listAccounts(db: Db, query: ListQuery): Promise<ListResult<StaffAccountRow>> {
  return runList<StaffAccountRow>({
    db,
    table: auth_accounts,
    idColumn: auth_accounts.id,
    select: STAFF_ACCOUNT,
    where: [],
    spec: ACCOUNT_LIST,
    query,
  });
}
