import type { Db } from '../../core/db.js';
import type { Jobs } from '../../core/jobs.js';
import type { LinkableArticle } from '../writer/writer.service.js';

/**
 * What the linker asks of other modules, as narrow interfaces wired in src/modules.ts: the writer reads and
 * revises articles (a new text is a new version with reason `links`), auth answers a site's URL.
 */
export interface LinkerContent {
  siteArticles(db: Db, accountId: number, siteId: number): Promise<LinkableArticle[]>;
  articleSites(db: Db, accountId: number, ids: number[], siteIds: number[] | null): Promise<{ id: number; site_id: number }[]>;
  article(db: Db, accountId: number, id: number, lock?: boolean): Promise<LinkableArticle | null>;
  reviseHtml(tx: Db, accountId: number, id: number, html: string, userId: number | null): Promise<LinkableArticle>;
}

export interface LinkerSites {
  /** The site's URL (`''` when none is set); null when it is not the account's. */
  url(db: Db, accountId: number, siteId: number): Promise<string | null>;
}

export interface LinkerDeps {
  db: Db;
  jobs: Jobs;
  content: LinkerContent;
  sites: LinkerSites;
}
