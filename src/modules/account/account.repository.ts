import { and, asc, count, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { auth_accounts, auth_memberships, auth_users } from '../auth/auth.tables.js';
import { account_api_keys, account_invitations } from './account.tables.js';

/** Team, invitations, API keys and settings: every query takes the account id. */

const memberColumns = {
  id: auth_users.id,
  email: auth_users.email,
  first_name: auth_users.first_name,
  last_name: auth_users.last_name,
  is_active: auth_users.is_active,
  created_at: auth_users.created_at,
  updated_at: auth_users.updated_at,
  role: auth_memberships.role,
  site_ids: auth_memberships.site_ids,
  joined_at: auth_memberships.created_at,
};

export type MemberRow = {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  is_active: boolean;
  created_at: Date;
  updated_at: Date;
  role: 'owner' | 'admin' | 'editor' | 'viewer';
  site_ids: number[];
  joined_at: Date;
};

export async function members(db: Db, accountId: number): Promise<MemberRow[]> {
  return db
    .select(memberColumns)
    .from(auth_memberships)
    .innerJoin(auth_users, eq(auth_users.id, auth_memberships.user_id))
    .where(eq(auth_memberships.account_id, accountId))
    .orderBy(asc(auth_memberships.id));
}

export async function member(db: Db, accountId: number, userId: number, lock = false): Promise<MemberRow | undefined> {
  const query = db
    .select(memberColumns)
    .from(auth_memberships)
    .innerJoin(auth_users, eq(auth_users.id, auth_memberships.user_id))
    .where(and(eq(auth_memberships.account_id, accountId), eq(auth_memberships.user_id, userId)));
  const [row] = await (lock ? query.for('update', { of: auth_memberships }) : query);
  return row;
}

export async function countMembers(db: Db, accountId: number): Promise<number> {
  const [row] = await db.select({ n: count() }).from(auth_memberships).where(eq(auth_memberships.account_id, accountId));
  return Number(row?.n ?? 0);
}

/** Owners of the account, locked, so two concurrent demotions cannot both pass the last-owner rule. */
export async function ownerIds(db: Db, accountId: number): Promise<number[]> {
  const rows = await db
    .select({ user_id: auth_memberships.user_id })
    .from(auth_memberships)
    .where(and(eq(auth_memberships.account_id, accountId), eq(auth_memberships.role, 'owner')))
    .for('update');
  return rows.map((r) => r.user_id);
}

export async function updateMembership(
  db: Db,
  accountId: number,
  userId: number,
  values: { role?: MemberRow['role']; site_ids?: number[] },
): Promise<void> {
  await db
    .update(auth_memberships)
    .set({ ...values, updated_at: new Date() })
    .where(and(eq(auth_memberships.account_id, accountId), eq(auth_memberships.user_id, userId)));
}

export async function deleteMembership(db: Db, accountId: number, userId: number): Promise<void> {
  await db.delete(auth_memberships).where(and(eq(auth_memberships.account_id, accountId), eq(auth_memberships.user_id, userId)));
}

export async function updateUserNames(
  db: Db,
  userId: number,
  values: { first_name?: string; last_name?: string },
): Promise<void> {
  if (Object.keys(values).length === 0) return;
  await db
    .update(auth_users)
    .set({ ...values, updated_at: new Date() })
    .where(eq(auth_users.id, userId));
}

// ---------------------------------------------------------------------------------------------------------
// Invitations

export async function insertInvitation(db: Db, values: typeof account_invitations.$inferInsert) {
  const [row] = await db.insert(account_invitations).values(values).returning();
  return row as typeof account_invitations.$inferSelect;
}

/** A live invitation by its token hash, with its account's name (any account: the token is the proof). */
export async function liveInvitation(db: Db, tokenHash: string) {
  const [row] = await db
    .select({
      email: account_invitations.email,
      role: account_invitations.role,
      expires_at: account_invitations.expires_at,
      account_id: account_invitations.account_id,
    })
    .from(account_invitations)
    .where(
      and(
        eq(account_invitations.token_hash, tokenHash),
        isNull(account_invitations.accepted_at),
        gt(account_invitations.expires_at, new Date()),
      ),
    );
  return row;
}

/** Claims a live invitation by its token hash (any account: the token is the proof). */
export async function claimInvitation(db: Db, tokenHash: string) {
  const [row] = await db
    .update(account_invitations)
    .set({ accepted_at: new Date(), updated_at: new Date() })
    .where(
      and(
        eq(account_invitations.token_hash, tokenHash),
        isNull(account_invitations.accepted_at),
        gt(account_invitations.expires_at, new Date()),
      ),
    )
    .returning();
  return row;
}

// ---------------------------------------------------------------------------------------------------------
// API keys

export type ApiKeyRow = typeof account_api_keys.$inferSelect;

export async function insertApiKey(db: Db, values: typeof account_api_keys.$inferInsert): Promise<ApiKeyRow> {
  const [row] = await db.insert(account_api_keys).values(values).returning();
  return row as ApiKeyRow;
}

export async function liveApiKey(db: Db, accountId: number, id: number): Promise<ApiKeyRow | undefined> {
  const [row] = await db
    .select()
    .from(account_api_keys)
    .where(and(eq(account_api_keys.account_id, accountId), eq(account_api_keys.id, id), isNull(account_api_keys.revoked_at)));
  return row;
}

export async function revokeApiKey(db: Db, accountId: number, id: number): Promise<boolean> {
  const rows = await db
    .update(account_api_keys)
    .set({ revoked_at: new Date(), updated_at: new Date() })
    .where(and(eq(account_api_keys.account_id, accountId), eq(account_api_keys.id, id), isNull(account_api_keys.revoked_at)))
    .returning({ id: account_api_keys.id });
  return rows.length > 0;
}

// ---------------------------------------------------------------------------------------------------------
// Settings

export async function accountSettings(db: Db, accountId: number) {
  const [row] = await db
    .select({
      id: auth_accounts.id,
      name: auth_accounts.name,
      slug: auth_accounts.slug,
      timezone: auth_accounts.timezone,
      billing_email: auth_accounts.billing_email,
      updated_at: auth_accounts.updated_at,
    })
    .from(auth_accounts)
    .where(eq(auth_accounts.id, accountId));
  return row;
}

export async function updateAccountSettings(
  db: Db,
  accountId: number,
  values: { name?: string; timezone?: string; billing_email?: string | null },
): Promise<void> {
  await db
    .update(auth_accounts)
    .set({ ...values, updated_at: sql`now()` })
    .where(eq(auth_accounts.id, accountId));
}
