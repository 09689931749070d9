import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { account_api_keys, account_invitations } from './account.tables.js';

/** Invitations and API keys: every query takes the account id (members and settings are auth's). */

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

/** The credential check's read: the unrevoked key with this hash, whatever its account. */
export async function liveApiKeyByHash(db: Db, hash: string) {
  const [row] = await db
    .select({
      id: account_api_keys.id,
      prefix: account_api_keys.prefix,
      name: account_api_keys.name,
      scopes: account_api_keys.scopes,
      site_id: account_api_keys.site_id,
      account_id: account_api_keys.account_id,
      expires_at: account_api_keys.expires_at,
    })
    .from(account_api_keys)
    .where(and(eq(account_api_keys.key_hash, hash), isNull(account_api_keys.revoked_at)));
  return row;
}

export async function touchApiKey(db: Db, id: number, at: Date): Promise<void> {
  await db.update(account_api_keys).set({ last_used_at: at }).where(eq(account_api_keys.id, id));
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
