import type { Db } from '../../core/db.js';
import { writer_tasks } from './writer.tables.js';

/**
 * The writer's entry point for other modules: tasks are created here (the planner queues content ideas),
 * so no other module writes the writer's table.
 */

export type NewWriterTask = Omit<typeof writer_tasks.$inferInsert, 'id' | 'account_id' | 'status' | 'created_at' | 'updated_at'>;

export function createWriterService() {
  return {
    /** Queues tasks in the caller's transaction; returns their ids in the order given. */
    async queueTasks(tx: Db, accountId: number, tasks: NewWriterTask[]): Promise<number[]> {
      if (tasks.length === 0) return [];
      const rows = await tx
        .insert(writer_tasks)
        .values(tasks.map((task) => ({ ...task, account_id: accountId, status: 'queued' as const })))
        .returning({ id: writer_tasks.id });
      return rows.map((row) => row.id);
    },
  };
}
export type WriterService = ReturnType<typeof createWriterService>;
