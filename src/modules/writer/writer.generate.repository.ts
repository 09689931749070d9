import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import type { WriterTaskRow } from './writer.repository.js';
import { type WriterTaskStatus, writer_tasks } from './writer.tables.js';

/**
 * The task moves of article generation (writer.jobs.ts, writer.generate.service.ts): `failed` → `queued`
 * when asked again, `queued` → `in_progress` as its article is written, then `completed` (with the article)
 * or `failed` (with the error). Each takes the account and moves a task only from the states named.
 */

async function move(
  db: Db,
  accountId: number,
  ids: number[],
  from: WriterTaskStatus[],
  values: Partial<typeof writer_tasks.$inferInsert>,
): Promise<WriterTaskRow[]> {
  if (ids.length === 0) return [];
  return db
    .update(writer_tasks)
    .set({ ...values, updated_at: new Date() })
    .where(and(eq(writer_tasks.account_id, accountId), inArray(writer_tasks.id, ids), inArray(writer_tasks.status, from)))
    .returning();
}

/** Failed tasks asked to generate again: back to `queued`, their error cleared; returns their ids. */
export async function requeueFailed(tx: Db, accountId: number, ids: number[]): Promise<number[]> {
  return (await move(tx, accountId, ids, ['failed'], { status: 'queued', error: null })).map((row) => row.id);
}

/** The task its article is being written for; null when it is no longer `queued` or `in_progress`. */
export async function startWriting(db: Db, accountId: number, id: number): Promise<WriterTaskRow | null> {
  const [row] = await move(db, accountId, [id], ['queued', 'in_progress'], { status: 'in_progress', error: null });
  return row ?? null;
}

/** `in_progress` → `completed`, pointing at its article; false when the task is no longer in progress. */
export async function completeWriting(tx: Db, accountId: number, id: number, contentId: number): Promise<boolean> {
  const rows = await move(tx, accountId, [id], ['in_progress'], { status: 'completed', content_id: contentId, error: null });
  return rows.length > 0;
}

/** `in_progress` (or still `queued`) → `failed`, with the error a person reads on the task. */
export async function failWriting(db: Db, accountId: number, id: number, error: string): Promise<void> {
  await move(db, accountId, [id], ['queued', 'in_progress'], { status: 'failed', error: error.slice(0, 2000) });
}
