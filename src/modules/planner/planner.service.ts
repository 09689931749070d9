import type { Ai } from '../../core/ai.js';
import type { Db } from '../../core/db.js';
import type { Jobs } from '../../core/jobs.js';
import type { Logger } from '../../core/logger.js';
import type { SiteAccess } from '../../core/tenancy.js';
import type { WriterService } from '../writer/writer.service.js';
import { createPlannerClusteringService } from './planner.clusters.service.js';
import type { PlannerSites } from './planner.deps.js';
import { createIdeasService } from './planner.ideas.service.js';
import { createImportService } from './planner.import.js';
import { createKeywordsService } from './planner.keywords.service.js';
import * as repo from './planner.repository.js';

/** The planner's services, made from what they use (wired in modules.ts). */
export function createPlannerServices(deps: {
  db: Db;
  jobs: Jobs;
  siteAccess: SiteAccess;
  sites: PlannerSites;
  writer: WriterService;
  ai: Ai;
  /** The account's default article length (system/settings/), for ideas that give none. */
  defaultWordCount: (accountId: number) => Promise<number>;
  log: Logger;
}) {
  const keywords = createKeywordsService({ db: deps.db, sites: deps.sites });
  return {
    keywords,
    imports: createImportService({ db: deps.db, siteAccess: deps.siteAccess, keywords, log: deps.log }),
    clustering: createPlannerClusteringService(deps),
    ideas: createIdeasService({ db: deps.db, writer: deps.writer, defaultWordCount: deps.defaultWordCount }),
  };
}
export type PlannerServices = ReturnType<typeof createPlannerServices>;

/**
 * What other modules (the writer) may ask of the planner's clusters and ideas: the site and sector of one of
 * the account's (null when it is not the account's), so a task or an article names only what its site holds.
 */
export function createPlannerDirectory() {
  return {
    async cluster(db: Db, accountId: number, id: number): Promise<{ site_id: number; sector_id: number } | null> {
      const row = await repo.clusterById(db, accountId, null, id);
      return row ? { site_id: row.site_id, sector_id: row.sector_id } : null;
    },
    async idea(
      db: Db,
      accountId: number,
      id: number,
    ): Promise<{ site_id: number; sector_id: number; cluster_id: number | null } | null> {
      const row = await repo.ideaById(db, accountId, id);
      return row ? { site_id: row.site_id, sector_id: row.sector_id, cluster_id: row.cluster_id } : null;
    },
  };
}
export type PlannerDirectory = ReturnType<typeof createPlannerDirectory>;
