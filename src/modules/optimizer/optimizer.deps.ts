import type { Db } from '../../core/db.js';

/**
 * What the optimizer needs of other modules, as narrow interfaces wired in src/modules.ts: the writer's
 * articles (read, and revised as a new version with reason `optimized`), a site's URL (auth's sites), the
 * account's language (the system module's AI settings).
 */

export interface OptimizerArticle {
  id: number;
  site_id: number;
  sector_id: number;
  title: string;
  html: string;
  meta_title: string;
  meta_description: string;
  slug: string;
  primary_keyword: string;
  secondary_keywords: string[];
  word_count: number;
  version: number;
  external_url: string | null;
}

export interface OptimizerArticles {
  /** Makes HTML safe to store, as every article's is (the writer's sanitiser). */
  sanitize(html: string): string;
  /** The caller's article (null when not found, another account's, or outside `siteIds`). */
  article(db: Db, accountId: number, id: number, siteIds?: number[] | null): Promise<OptimizerArticle | null>;
  /** Saves the rewrite as the current text (the previous one kept as a version); 412 if `expectedVersion` moved. */
  revise(
    tx: Db,
    accountId: number,
    id: number,
    changes: { html: string; meta_title: string; meta_description: string },
    by: { userId: number | null; expectedVersion: number },
  ): Promise<OptimizerArticle>;
}

export interface OptimizerSites {
  /** The site's URL ('' when none is set). */
  url(db: Db, accountId: number, siteId: number): Promise<string>;
}

export type AccountLanguage = (accountId: number) => Promise<string>;
