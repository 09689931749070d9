import type { Db } from '../../core/db.js';
import * as repo from './planner.repository.js';

/**
 * What the writer reads of the planner to write an article (the idea's outline and keywords, the cluster's
 * top keywords) and the idea it completes once the article is stored: handed to the writer in src/modules.ts,
 * so the writer never reads the planner's tables.
 */
export function createContentBriefs(db: Db) {
  return {
    /** The idea's brief; null when it is not the account's (or gone). */
    async ideaBrief(accountId: number, ideaId: number) {
      const idea = await repo.ideaById(db, accountId, ideaId);
      if (!idea) return null;
      return {
        title: idea.title,
        description: idea.description,
        outline: idea.outline,
        target_keywords: idea.target_keywords,
      };
    },
    /** The cluster's keywords, highest volume first. */
    clusterKeywords: (accountId: number, clusterId: number, limit: number) =>
      repo.topClusterKeywords(db, accountId, clusterId, limit),
    /** `queued` → `completed`, in the writer's transaction; false when the idea was not queued (moved, archived). */
    completeIdea: (tx: Db, accountId: number, ideaId: number) => repo.completeQueuedIdea(tx, accountId, ideaId),
  };
}
export type ContentBriefsService = ReturnType<typeof createContentBriefs>;
