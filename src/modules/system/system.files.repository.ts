import { inArray } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { system_released_files } from './system.tables.js';

/** Released storage keys, oldest first: what the purge deletes next. Not per account: a file belongs to none any more. */
export async function releasedFiles(db: Db, limit: number): Promise<string[]> {
  const rows = await db
    .select({ key: system_released_files.storage_key })
    .from(system_released_files)
    .orderBy(system_released_files.released_at, system_released_files.storage_key)
    .limit(limit);
  return rows.map((row) => row.key);
}

export async function forgetReleasedFiles(db: Db, keys: string[]): Promise<void> {
  if (keys.length > 0) await db.delete(system_released_files).where(inArray(system_released_files.storage_key, keys));
}

/** Releases keys no row names (a failed build's files), in the caller's transaction; a key released twice is one. */
export async function releaseFiles(tx: Db, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000).map((storage_key) => ({ storage_key }));
    if (batch.length > 0) await tx.insert(system_released_files).values(batch).onConflictDoNothing();
  }
}

/**
 * Takes keys back that a row names again (a rebuilt deployment's manifest reuses its own keys), in the
 * transaction that names them, so the purge never sees them released.
 */
export async function keepFiles(tx: Db, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    if (batch.length > 0) await tx.delete(system_released_files).where(inArray(system_released_files.storage_key, batch));
  }
}
