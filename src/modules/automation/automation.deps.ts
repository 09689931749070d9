import type { Db } from '../../core/db.js';
import type { InlineUnit } from '../../core/jobs.js';
import type { RequestContext } from '../../core/tenancy.js';

/**
 * What automation needs of the other modules, wired in src/modules.ts. Each stage's unit is done by the module's
 * own code (its job handler, run inline under `unit.key`), so a unit run again with the same key, after a
 * crash or a restart, finds its work done and its credits charged: nothing happens twice.
 */

/** Who a run acts as when it moves content through the API's own rules (the user who started it, if any). */
export interface Actor {
  accountId: number;
  actorId: number | null;
}

export interface AutomationPlanner {
  /** The site's `new` keywords, highest volume first, at most `limit`. */
  newKeywords(accountId: number, siteId: number, limit: number): Promise<{ id: number; sector_id: number }[]>;
  /** Lexical clustering of these keywords of one sector (free). */
  clusterKeywords(
    unit: InlineUnit,
    target: { site_id: number; sector_id: number },
    ids: number[],
  ): Promise<{ clusters_created: number; keywords_clustered: number }>;
  /** The site's clusters still `new` (no ideas yet), oldest first. */
  clustersWithoutIdeas(accountId: number, siteId: number, limit: number): Promise<number[]>;
  generateIdeas(unit: InlineUnit, clusterId: number, perCluster: number): Promise<{ ideas_created: number }>;
  /** The site's `new` ideas, oldest first. */
  newIdeas(accountId: number, siteId: number, limit: number): Promise<number[]>;
  /** The planner's `bulk_queue_to_writer/`: one writer task per idea still `new`. */
  queueIdeas(actor: Actor, ids: number[]): Promise<{ queued: number; writer_task_ids: number[] }>;
}

export interface AutomationWriter {
  /** The site's `queued` writer tasks, oldest first, with their target length (for the estimate). */
  queuedTasks(accountId: number, siteId: number, limit: number): Promise<{ id: number; word_count_target: number }[]>;
  generateArticle(unit: InlineUnit, taskId: number): Promise<{ content_id: number | null; credits: number }>;
  /** The site's generated `draft` articles, oldest first, with whether they have images yet. */
  drafts(accountId: number, siteId: number, limit: number): Promise<{ id: number; word_count: number; has_images: boolean }[]>;
  writeImagePrompts(unit: InlineUnit, contentId: number, inArticle: number): Promise<{ image_ids: number[] }>;
  /** The site's images waiting to be drawn (`pending`), oldest first. */
  pendingImages(accountId: number, siteId: number, limit: number): Promise<number[]>;
  generateImage(unit: InlineUnit, imageId: number): Promise<{ generated: boolean }>;
  /** `draft` → `review` (the review queue); false when it is no longer a draft. */
  submitForReview(actor: Actor, contentId: number): Promise<boolean>;
  /** `review` → `approved`; false when it is no longer in review. */
  approve(actor: Actor, contentId: number): Promise<boolean>;
}

export interface AutomationOptimizer {
  optimize(unit: InlineUnit, contentId: number): Promise<{ applied: boolean }>;
}

export interface AutomationLinker {
  link(unit: InlineUnit, contentId: number): Promise<{ applied: number }>;
}

/**
 * The publisher's `publisher/publish/` for these articles (records, and a job that posts them); articles a
 * crashed run queued already are left to their job.
 */
export type AutomationPublish = (
  actor: Actor,
  contentIds: number[],
  status: 'publish' | 'draft',
) => Promise<{ records: number } | unknown>;

export interface AutomationCredits {
  balance(accountId: number): Promise<number>;
  /** Credits taken (usage, net of refunds) under refs starting with `prefix`: what a run's units cost. */
  chargedUnder(accountId: number, prefix: string): Promise<number>;
}

/** Site checks: the caller reaches the site (null) or the field errors to answer. */
export interface AutomationSites {
  check(db: Db, ctx: RequestContext & { accountId: number }, siteId: number): Promise<Record<string, string[]> | null>;
}

export interface AutomationStages {
  planner: AutomationPlanner;
  writer: AutomationWriter;
  optimizer: AutomationOptimizer;
  linker: AutomationLinker;
  publish: AutomationPublish;
}
