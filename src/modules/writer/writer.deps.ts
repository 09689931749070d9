import type { Db } from '../../core/db.js';
import type { ScopedContext } from '../../core/resource.js';
import type { SiteAccess } from '../../core/tenancy.js';

/**
 * What the writer asks of other modules, as narrow interfaces wired in src/modules.ts: the planner answers for
 * its clusters and ideas, the system module for the account's settings and author profiles, auth for sites.
 */

export interface WriterPlanner {
  /** The site and sector of one of the account's clusters; null when it is not the account's. */
  cluster(db: Db, accountId: number, id: number): Promise<{ site_id: number; sector_id: number } | null>;
  /** The site, sector and cluster of one of the account's content ideas; null when it is not the account's. */
  idea(db: Db, accountId: number, id: number): Promise<{ site_id: number; sector_id: number; cluster_id: number | null } | null>;
}

export interface WriterSettings {
  /** The account's default article length (system/settings/). */
  defaultWordCount(accountId: number): Promise<number>;
  /** Whether an author profile is the account's. */
  hasAuthorProfile(accountId: number, id: number): Promise<boolean>;
}

/** The publisher, for approving with `publish: true`. */
export interface WriterPublishing {
  /**
   * Queues the publication of the caller's approved articles in the caller's transaction (a 400 naming an
   * article it cannot publish); the task that sends them and their publishing records.
   */
  queue(
    tx: Db,
    ctx: ScopedContext,
    body: { content_ids: number[] },
  ): Promise<{ task: { id: number; status: string }; record_ids: number[] }>;
}

export interface WriterDeps {
  db: Db;
  siteAccess: SiteAccess;
  planner: WriterPlanner;
  settings: WriterSettings;
  /** Lazy: the publisher's service is made after the writer's (it reads articles through it). */
  publishing: () => WriterPublishing;
}
