import type { Ai } from '../../core/ai.js';
import type { Db } from '../../core/db.js';
import { AppError, notFound } from '../../core/errors.js';
import { byCaller, record } from '../../core/events.js';
import type { Jobs } from '../../core/jobs.js';
import type { ScopedContext } from '../../core/resource.js';
import * as generation from './writer.generate.repository.js';
import type { GenerateContent } from './writer.generate.schemas.js';
import { writerTasksByIds } from './writer.repository.js';

/**
 * The rules of `writer/tasks/auto_generate_content/`: the caller's tasks among `ids` (others are reported as
 * `skipped`; none at all is a 404), each `queued` or `failed` (any other makes it a 409 naming them, and
 * nothing starts), then 503 without an AI provider and 402 when the balance is short of every article's
 * credits, then one task (`writer.generate_content`) writes them all, failed ones queued again first.
 */

/** Billing's `content_generation` is 1 credit per 100 target words, rounded up per article. */
const PER_UNITS = 100;
const billedWords = (words: number) => Math.ceil(words / PER_UNITS) * PER_UNITS;

export function createWriterGenerateService(deps: { db: Db; jobs: Jobs; ai: Ai }) {
  const { db, jobs, ai } = deps;
  return {
    async startGeneration(ctx: ScopedContext, body: GenerateContent) {
      const ids = [...new Set(body.ids)];
      const order = new Map(ids.map((id, i) => [id, i]));
      // Written in the order asked.
      const tasks = (await writerTasksByIds(db, ctx.accountId, ids, ctx.siteIds)).sort(
        (a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0),
      );
      if (tasks.length === 0) throw notFound('Writer task');
      const refused = tasks.filter((t) => t.status !== 'queued' && t.status !== 'failed');
      if (refused.length > 0) {
        const statuses = [...new Set(refused.map((t) => t.status))].join(', ');
        throw new AppError(
          'conflict',
          `${refused.length} of these tasks are not queued or failed (${statuses}); articles are written for queued or failed tasks only, and nothing was started.`,
          {
            details: { ids: refused.map((t) => t.id), current_status: Object.fromEntries(refused.map((t) => [t.id, t.status])) },
          },
        );
      }
      // Each article is charged on its own (rounded up per article): the estimate adds them up the same way.
      const units = tasks.reduce((sum, t) => sum + billedWords(t.word_count_target), 0);
      // Outside any transaction: billing reads the balance on its own connection (one connection on PGlite).
      const credits = await ai.ensure(ctx, [{ fn: 'content', units }]);
      const sites = new Set(tasks.map((t) => t.site_id));
      const owner = {
        accountId: ctx.accountId,
        actorId: ctx.user?.id ?? null,
        // Tasks of one site make a task of that site; of several, an account-wide one.
        siteId: sites.size === 1 ? ([...sites][0] ?? null) : null,
      };
      const task = await db.transaction(async (tx) => {
        const started = await jobs.startTask(tx, owner, 'writer.generate_content', {
          account_id: ctx.accountId,
          actor_id: owner.actorId,
          task_ids: tasks.map((t) => t.id),
        });
        // Failed tasks asked again go back to `queued` first, as retry/ would: that change is recorded.
        const requeued = await generation.requeueFailed(
          tx,
          ctx.accountId,
          tasks.filter((t) => t.status === 'failed').map((t) => t.id),
        );
        if (requeued.length > 0) {
          await record(
            tx,
            byCaller(ctx, {
              type: 'writer_tasks.retried',
              object_type: 'writer_task',
              site_id: owner.siteId,
              payload: { count: requeued.length, ids: requeued, task_id: started.id },
            }),
          );
        }
        return started;
      });
      const found = new Set(tasks.map((t) => t.id));
      return { task, credits, skipped: ids.filter((id) => !found.has(id)) };
    },
  };
}
export type WriterGenerateService = ReturnType<typeof createWriterGenerateService>;
