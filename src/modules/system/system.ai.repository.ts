import { and, eq } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { system_ai_settings, system_author_profiles, system_prompts } from './system.tables.js';

/** Queries on the account's AI settings, prompt overrides and author profiles; every one takes the account. */

export type SettingsRow = typeof system_ai_settings.$inferSelect;
export type PromptRow = typeof system_prompts.$inferSelect;
export type AuthorProfileRow = typeof system_author_profiles.$inferSelect;

export async function findSettings(db: Db, accountId: number): Promise<SettingsRow | null> {
  const [row] = await db.select().from(system_ai_settings).where(eq(system_ai_settings.account_id, accountId));
  return row ?? null;
}

/** Creates the account's row on first change; later changes update it. */
export async function upsertSettings(db: Db, accountId: number, changes: Partial<SettingsRow>): Promise<SettingsRow> {
  const [row] = await db
    .insert(system_ai_settings)
    .values({ ...changes, account_id: accountId })
    .onConflictDoUpdate({ target: system_ai_settings.account_id, set: { ...changes, updated_at: new Date() } })
    .returning();
  return row as SettingsRow;
}

export function listPrompts(db: Db, accountId: number): Promise<PromptRow[]> {
  return db.select().from(system_prompts).where(eq(system_prompts.account_id, accountId));
}

export async function findPrompt(db: Db, accountId: number, fn: string): Promise<PromptRow | null> {
  const [row] = await db
    .select()
    .from(system_prompts)
    .where(and(eq(system_prompts.account_id, accountId), eq(system_prompts.function, fn)));
  return row ?? null;
}

export async function upsertPrompt(
  db: Db,
  accountId: number,
  fn: string,
  templates: { system_template: string; user_template: string },
): Promise<PromptRow> {
  const [row] = await db
    .insert(system_prompts)
    .values({ account_id: accountId, function: fn, ...templates })
    .onConflictDoUpdate({
      target: [system_prompts.account_id, system_prompts.function],
      set: { ...templates, updated_at: new Date() },
    })
    .returning();
  return row as PromptRow;
}

/** The override removed, or null when the function had none. */
export async function deletePrompt(db: Db, accountId: number, fn: string): Promise<PromptRow | null> {
  const [row] = await db
    .delete(system_prompts)
    .where(and(eq(system_prompts.account_id, accountId), eq(system_prompts.function, fn)))
    .returning();
  return row ?? null;
}

export async function findAuthorProfile(db: Db, accountId: number, id: number): Promise<AuthorProfileRow | null> {
  const [row] = await db
    .select()
    .from(system_author_profiles)
    .where(and(eq(system_author_profiles.account_id, accountId), eq(system_author_profiles.id, id)));
  return row ?? null;
}
