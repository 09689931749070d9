import { type Static, Type } from 'typebox';
import type { Ai } from '../../core/ai.js';
import type { Db } from '../../core/db.js';
import { AppError } from '../../core/errors.js';
import { record } from '../../core/events.js';
import { defineJob, describeError, type JobContext } from '../../core/jobs.js';
import { storeClusters } from './planner.clustering.js';
import type { PlannerSites } from './planner.deps.js';
import { type AutoClusterJob, AutoClusterPayload } from './planner.jobs.js';
import { normaliseKeyword } from './planner.keywords.service.js';
import * as repo from './planner.repository.js';

/**
 * The planner's AI work, on the AI engine (core/ai.ts): clustering keywords in batches (`clustering`, charged
 * per batch by its keywords) and generating content ideas per cluster (`ideas`, charged per cluster). Each
 * unit is charged once under a ref tied to the task and the unit, and stored once through `ctx.once`, so a
 * retried task neither pays nor writes twice. A unit that fails is reported in the result and not charged;
 * once the balance runs out, the remaining units fail with `insufficient_credits`.
 */

/** Keywords per clustering call: enough context to group well, small enough for local models. */
export const AI_CLUSTER_BATCH = 150;
/** Keywords of a cluster shown when asking for ideas. */
const IDEA_KEYWORDS = 50;

export const GenerateIdeasPayload = Type.Object({
  account_id: Type.Integer({ minimum: 1 }),
  actor_id: Type.Union([Type.Integer(), Type.Null()]),
  cluster_ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1 }),
  ideas_per_cluster: Type.Integer({ minimum: 1, maximum: 10 }),
});

declare module '../../core/jobs.js' {
  interface JobPayloads {
    'planner.cluster_ai': Static<typeof AutoClusterPayload>;
    'planner.generate_ideas': Static<typeof GenerateIdeasPayload>;
  }
}

interface UnitFailure {
  unit: string;
  code: string;
  message: string;
}

/**
 * A unit's failure as the task's own error would read (core/jobs.ts `describeError`): an AI failure by its
 * reason (`malformed_output`, `timeout`, ...), an AppError by its code, anything else a generic
 * `internal_error` whose detail is only in the log.
 */
const failureOf = (ctx: JobContext<unknown>, unit: string, error: unknown): UnitFailure => {
  if (!(error instanceof AppError)) ctx.log.error({ err: error, unit }, 'job unit failed');
  return { unit, ...describeError(error, ctx.taskId) };
};

/** Stops the whole task (rather than failing one unit) when it was cancelled or timed out. */
function rethrowIfStopped(ctx: JobContext<unknown>, error: unknown) {
  if (ctx.signal.aborted) throw error;
}

/**
 * After every unit failed, the task fails with the first unit's own error, so one unit or many read the same:
 * a final one (insufficient credits, a malformed answer) fails the task at once, a transient one (an AI timeout
 * or 5xx) lets the queue retry it, and its finished units are not done or charged again.
 */
function failIfNothingWorked(done: number, failures: { failure: UnitFailure; error: unknown }[]) {
  const first = failures[0];
  if (done === 0 && first) throw first.error;
}

export function plannerAiJobs(deps: { ai: () => Ai; sites: PlannerSites }) {
  const clusterAiJob = defineJob({
    name: 'planner.cluster_ai',
    payload: AutoClusterPayload,
    timeoutSeconds: 1800,
    retryLimit: 2,
    concurrency: 1,
    async handler(ctx) {
      const ai = deps.ai();
      const payload = ctx.payload as AutoClusterJob;
      const owner = { accountId: payload.account_id, actorId: payload.actor_id };
      const target = { site_id: payload.site_id, sector_id: payload.sector_id };
      const keywords = await repo.newKeywords(ctx.db, payload.account_id, { ...target, ids: payload.ids });
      const names = await deps.sites.names(ctx.db, payload.account_id, target.site_id, target.sector_id);
      const batches = Math.ceil(keywords.length / AI_CLUSTER_BATCH);
      const failures: { failure: UnitFailure; error: unknown }[] = [];
      let clusters = 0;
      let clustered = 0;
      let done = 0;
      await ctx.progress(0, batches, `Clustering ${keywords.length} keywords in ${batches} batches`);
      for (let b = 0; b < batches; b++) {
        const unit = `batch:${b}`;
        const batch = keywords.slice(b * AI_CLUSTER_BATCH, (b + 1) * AI_CLUSTER_BATCH);
        try {
          const answer = await ai.run(
            { accountId: payload.account_id },
            'clustering',
            { keywords: batch.map((k) => k.keyword).join('\n'), sector: names.sector, site_name: names.site },
            {
              ref: ai.refFor(ctx, unit),
              units: batch.length,
              object_type: 'sector',
              object_id: target.sector_id,
              signal: ctx.signal,
            },
          );
          // Only keywords we sent, each at most once, whatever the model wrote back.
          const byText = new Map(batch.map((k) => [k.keyword, k]));
          const groups = answer.output.clusters.map((cluster) => {
            const members: typeof batch = [];
            for (const text of cluster.keywords) {
              const keyword = byText.get(normaliseKeyword(text));
              if (keyword) {
                members.push(keyword);
                byText.delete(keyword.keyword);
              }
            }
            return { keywords: members, name: cluster.name, description: cluster.description ?? '' };
          });
          const outcome = await ctx.once(unit, (tx) => storeClusters(tx, owner, target, 'ai', batch.length, groups));
          clusters += outcome.clusters_created;
          clustered += outcome.keywords_clustered;
          done++;
        } catch (error) {
          rethrowIfStopped(ctx, error);
          failures.push({ failure: failureOf(ctx, unit, error), error });
        }
        await ctx.progress(b + 1, batches, `${clusters} clusters so far`);
      }
      failIfNothingWorked(done, failures);
      return {
        method: 'ai',
        clusters_created: clusters,
        keywords_clustered: clustered,
        keywords_considered: keywords.length,
        batches,
        failed: failures.map((f) => f.failure),
      };
    },
  });

  const generateIdeasJob = defineJob({
    name: 'planner.generate_ideas',
    payload: GenerateIdeasPayload,
    timeoutSeconds: 1800,
    retryLimit: 2,
    concurrency: 1,
    async handler(ctx) {
      const ai = deps.ai();
      const { payload } = ctx;
      const failures: { failure: UnitFailure; error: unknown }[] = [];
      let created = 0;
      let done = 0;
      const skipped: number[] = [];
      const total = payload.cluster_ids.length;
      await ctx.progress(0, total, `Generating ideas for ${total} clusters`);
      for (const [index, clusterId] of payload.cluster_ids.entries()) {
        const unit = `cluster:${clusterId}`;
        try {
          const cluster = await repo.clusterById(ctx.db, payload.account_id, null, clusterId);
          if (!cluster) {
            skipped.push(clusterId);
            continue;
          }
          const keywords = await repo.topClusterKeywords(ctx.db, payload.account_id, clusterId, IDEA_KEYWORDS);
          const names = await deps.sites.names(ctx.db, payload.account_id, cluster.site_id, cluster.sector_id);
          const answer = await ai.run(
            { accountId: payload.account_id },
            'ideas',
            {
              cluster_name: cluster.name,
              cluster_description: cluster.description,
              keywords: keywords.join('\n'),
              ideas_count: payload.ideas_per_cluster,
              site_name: names.site,
            },
            { ref: ai.refFor(ctx, unit), units: 1, object_type: 'cluster', object_id: clusterId, signal: ctx.signal },
          );
          const ideas = answer.output.ideas.slice(0, payload.ideas_per_cluster);
          created += await ctx.once(unit, (tx) => storeIdeas(tx, payload.account_id, payload.actor_id, cluster, ideas));
          done++;
        } catch (error) {
          rethrowIfStopped(ctx, error);
          failures.push({ failure: failureOf(ctx, unit, error), error });
        }
        await ctx.progress(index + 1, total, `${created} ideas so far`);
      }
      failIfNothingWorked(done, failures);
      return { ideas_created: created, clusters_done: done, clusters_skipped: skipped, failed: failures.map((f) => f.failure) };
    },
  });

  return [clusterAiJob, generateIdeasJob];
}

type IdeaAnswer = {
  title: string;
  description: string;
  content_type: string;
  content_structure: string;
  target_keywords: string[];
  estimated_word_count: number;
  outline: { sections: { heading: string; level: number; points: string[] }[] };
};

/** Stores one cluster's ideas, moves the cluster to `ideas_generated`, and records the event. */
async function storeIdeas(
  tx: Db,
  accountId: number,
  actorId: number | null,
  cluster: repo.ClusterRow,
  ideas: IdeaAnswer[],
): Promise<number> {
  const ids = await repo.insertIdeas(
    tx,
    accountId,
    ideas.map((idea) => ({
      site_id: cluster.site_id,
      sector_id: cluster.sector_id,
      cluster_id: cluster.id,
      title: idea.title.trim().slice(0, 300),
      description: idea.description,
      outline: idea.outline,
      content_type: idea.content_type as 'post',
      content_structure: idea.content_structure as 'article',
      target_keywords: [...new Set(idea.target_keywords.map(normaliseKeyword).filter(Boolean))],
      estimated_word_count: idea.estimated_word_count,
    })),
  );
  if (cluster.status === 'new') await repo.markIdeasGenerated(tx, accountId, cluster.id);
  await record(tx, {
    account_id: accountId,
    site_id: cluster.site_id,
    type: 'ideas.generated',
    source_agent: 'worker',
    actor_id: actorId,
    object_type: 'cluster',
    object_id: cluster.id,
    payload: { idea_ids: ids, count: ids.length },
  });
  return ids.length;
}
