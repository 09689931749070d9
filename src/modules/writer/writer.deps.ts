import type { Db } from '../../core/db.js';
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

export interface WriterDeps {
  db: Db;
  siteAccess: SiteAccess;
  planner: WriterPlanner;
  settings: WriterSettings;
}
