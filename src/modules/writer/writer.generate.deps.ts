import type { Db } from '../../core/db.js';

/**
 * What the writer asks of other modules to write an article, as narrow interfaces: the planner answers for
 * ideas and clusters (`createContentBriefs`), the system module for author profiles, auth for site names; all
 * wired in src/modules.ts, so the writer never reads their tables.
 */

export interface OutlineSection {
  heading: string;
  level: number;
  points: string[];
}

export interface IdeaBrief {
  title: string;
  description: string;
  outline: { sections: OutlineSection[] };
  target_keywords: string[];
}

export interface ContentBriefs {
  /** The idea's outline and keywords; null when it is not the account's (or gone). */
  ideaBrief(accountId: number, ideaId: number): Promise<IdeaBrief | null>;
  /** The cluster's keywords, highest volume first, at most `limit`. */
  clusterKeywords(accountId: number, clusterId: number, limit: number): Promise<string[]>;
  /** Marks the idea completed (from `queued`) in the writer's transaction. */
  completeIdea(tx: Db, accountId: number, ideaId: number): Promise<boolean>;
}

export interface AuthorProfile {
  name: string;
  tone: string;
  persona: string;
  guidelines: string;
}

export interface AuthorProfiles {
  /** The account's author profile; null when it is not the account's (or gone). */
  profile(accountId: number, id: number): Promise<AuthorProfile | null>;
}

export interface WriterSites {
  /** The names of a site and its sector, for the prompts (empty when not the account's). */
  names(db: Db, accountId: number, siteId: number, sectorId: number): Promise<{ site: string; sector: string }>;
}
