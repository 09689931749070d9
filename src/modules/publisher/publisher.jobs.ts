import { type Static, Type } from 'typebox';
import type { Db } from '../../core/db.js';
import { AppError } from '../../core/errors.js';
import { record as recordEvent } from '../../core/events.js';
import {
  type AnyJobDefinition,
  abandonedBecause,
  defineJob,
  isTransient,
  JobCancelled,
  type JobContext,
  TransientError,
} from '../../core/jobs.js';
import type { Storage } from '../../core/storage.js';
import { type SiteConnections, WordPressError } from '../integration/integration.service.js';
import type { PublisherArticles } from './publisher.deps.js';
import * as repo from './publisher.repository.js';
import { MAX_PUBLISH } from './publisher.schemas.js';
import { describeWordPressError, PublishFailure, type Sent, sendRecord } from './publisher.send.js';

/**
 * `publisher.publish`: the records of its payload, one after the other, each sent by `sendRecord`. A record
 * whose attempt failed in a way that may pass (WordPress's 5xx, 408, 429, a timeout, a dropped connection, our
 * database) goes back to `pending` with what happened in `error`, and the job is retried by the queue with
 * exponential backoff; on the last attempt, or for any other failure (a 4xx: WordPress's own message), the
 * record is `failed`. Records already published (a rerun) are skipped, so two runs leave one post and one
 * media item per image.
 */

export const PublishPayload = Type.Object({
  account_id: Type.Integer({ minimum: 1 }),
  actor_id: Type.Union([Type.Integer(), Type.Null()]),
  record_ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: MAX_PUBLISH }),
});

declare module '../../core/jobs.js' {
  interface JobPayloads {
    'publisher.publish': Static<typeof PublishPayload>;
  }
}

export interface PublisherJobDeps {
  /** Lazy: the writer's service is made after the job types. */
  articles: () => PublisherArticles;
  connections: SiteConnections;
  storage: Storage;
}

/** The job's retry policy: a WordPress outage of a few minutes is waited out (pg-boss's jittered backoff: 5–10 s, …, 80–160 s). */
export const PUBLISH_RETRIES = { retryLimit: 5, retryDelaySeconds: 5, retryBackoff: true } as const;
export const PUBLISH_TIMEOUT_SECONDS = 1800;

type Ctx = JobContext<Static<typeof PublishPayload>>;
type Outcome =
  | { kind: 'published'; sent: Sent }
  | { kind: 'skipped'; record_id: number }
  | { kind: 'retrying' | 'failed'; record_id: number; error: string; code: AppError['code'] };

function retryable(error: unknown): boolean {
  if (error instanceof WordPressError) return error.retryable;
  if (error instanceof PublishFailure) return error.retryable;
  return isTransient(error);
}

function messageOf(error: unknown, recordId: number): { error: string; code: AppError['code'] } {
  if (error instanceof WordPressError) return { error: describeWordPressError(error), code: 'service_unavailable' };
  if (error instanceof PublishFailure) return { error: error.message, code: error.code };
  if (error instanceof AppError) return { error: error.message, code: error.code };
  if (isTransient(error)) return { error: 'Our database was unavailable while publishing.', code: 'service_unavailable' };
  return {
    error: `Something went wrong on our side publishing record ${recordId}; the error has been logged.`,
    code: 'internal_error',
  };
}

async function publishOne(ctx: Ctx, deps: PublisherJobDeps, recordId: number): Promise<Outcome> {
  const accountId = ctx.payload.account_id;
  const row = await repo.claimRecord(ctx.db, accountId, recordId, ctx.taskId);
  if (!row) return { kind: 'skipped', record_id: recordId };
  const by = { actorId: ctx.payload.actor_id, taskId: ctx.taskId };
  try {
    const sent = await sendRecord(ctx.db, { ...deps, articles: deps.articles() }, row, by);
    return { kind: 'published', sent };
  } catch (error) {
    if (error instanceof JobCancelled || ctx.signal.aborted) throw error;
    const { error: message, code } = messageOf(error, recordId);
    if (code === 'internal_error') ctx.log.error({ err: error, record_id: recordId }, 'publishing failed');
    if (retryable(error) && !ctx.lastAttempt) {
      await repo.updateRecord(ctx.db, accountId, recordId, {
        status: 'pending',
        error: `${message} (attempt ${row.attempts}; tried again shortly)`,
      });
      return { kind: 'retrying', record_id: recordId, error: message, code };
    }
    await ctx.db.transaction(async (tx) => {
      await repo.updateRecord(tx, accountId, recordId, { status: 'failed', error: message });
      await recordEvent(tx, {
        account_id: accountId,
        site_id: row.site_id,
        type: 'publishing_record.failed',
        source_agent: 'worker',
        actor_id: by.actorId,
        object_type: 'publishing_record',
        object_id: recordId,
        payload: { content_id: row.content_id, error: message, attempts: row.attempts, system_task_id: ctx.taskId },
      });
    });
    return { kind: 'failed', record_id: recordId, error: message, code };
  }
}

/** A cancelled task leaves none of its records waiting: each one it had not sent is failed, saying so. */
async function abandon(tx: Db, accountId: number, taskId: number | null, recordIds: number[], reason: string): Promise<void> {
  for (const id of new Set(recordIds)) {
    const row = await repo.recordById(tx, accountId, id);
    if (row && repo.IN_FLIGHT.includes(row.status) && (taskId === null || row.task_id === taskId)) {
      await repo.updateRecord(tx, accountId, id, { status: 'failed', error: reason });
    }
  }
}

export function publisherJobs(deps: PublisherJobDeps): AnyJobDefinition[] {
  return [
    defineJob({
      name: 'publisher.publish',
      payload: PublishPayload,
      timeoutSeconds: PUBLISH_TIMEOUT_SECONDS,
      ...PUBLISH_RETRIES,
      async handler(ctx) {
        const ids = [...new Set(ctx.payload.record_ids)];
        const outcomes: Outcome[] = [];
        for (const [index, id] of ids.entries()) {
          await ctx.progress(index, ids.length, `Publishing record ${id}`);
          outcomes.push(await publishOne(ctx, deps, id));
        }
        const retrying = outcomes.flatMap((o) => (o.kind === 'retrying' ? [o] : []));
        const first = retrying[0];
        if (first) throw new TransientError(`${retrying.length} of ${ids.length} records will be tried again: ${first.error}`);
        const published = outcomes.flatMap((o) => (o.kind === 'published' ? [o.sent] : []));
        const failed = outcomes.flatMap((o) => (o.kind === 'failed' ? [{ record_id: o.record_id, error: o.error }] : []));
        await ctx.progress(ids.length, ids.length, `${published.length} of ${ids.length} published`);
        const firstFailure = outcomes.find((o) => o.kind === 'failed');
        // Nothing published and something failed: the task fails with the first record's own error.
        if (published.length === 0 && firstFailure?.kind === 'failed') {
          throw new AppError(firstFailure.code, firstFailure.error);
        }
        return {
          published: published.length,
          failed,
          skipped: outcomes.flatMap((o) => (o.kind === 'skipped' ? [o.record_id] : [])),
          records: published,
        };
      },
      onAbandoned: (tx, task, ending) =>
        abandon(
          tx,
          task.accountId,
          task.taskId,
          task.payload.record_ids,
          abandonedBecause(ending, 'The publishing task was cancelled.'),
        ),
    }),
  ];
}
