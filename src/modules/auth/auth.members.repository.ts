import { and, asc, count, eq, sql } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { auth_accounts, auth_memberships, auth_users } from './auth.tables.js';

/**
 * The members of an account (a user and their membership) and the account's own settings: the queries behind
 * auth/users/ and account/team/ (one members service) and account/settings/. Every query takes the account id.
 */

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
