import type { Db } from '../../core/db.js';

/**
 * What the planner asks of the account's sites and plan: the auth module answers (its `siteDirectory`, wired
 * in src/modules.ts), so the planner never reads another module's tables.
 */
export interface PlannerSites {
  /** The names of a site and its sector, for AI prompts (empty when not the account's). */
  names(db: Db, accountId: number, siteId: number, sectorId: number): Promise<{ site: string; sector: string }>;
  /** The plan's keyword limit (null: none), locking the account so concurrent imports count one at a time. */
  lockKeywordLimit(db: Db, accountId: number): Promise<number | null>;
}
