import type { Db } from '../../core/db.js';
import type { PublishedArticle } from '../writer/writer.service.js';

/**
 * What the deployments need of other modules, as narrow interfaces wired in src/modules.ts: a site's
 * published articles (the writer), a site's names and URL and the site a public address names (auth's site
 * directory), an author profile's name (the system module).
 */

export interface DeploymentArticles {
  /** Published articles of the site with id > `afterId`, by id, at most `limit`, with their generated images. */
  publishedArticles(
    db: Db,
    accountId: number,
    siteId: number,
    options: { afterId: number; limit: number },
  ): Promise<PublishedArticle[]>;
}

export interface ExportedSite {
  id: number;
  name: string;
  slug: string;
  /** The site's own address ('' when none is set): canonical URLs point there when it is set. */
  url: string;
  description: string;
  account_slug: string;
}

export interface DeploymentSites {
  exported(db: Db, accountId: number, siteId: number): Promise<ExportedSite | null>;
  bySlugs(db: Db, accountSlug: string, siteSlug: string): Promise<{ account_id: number; site_id: number } | null>;
}

/** An author profile's display name (null when it is gone or not the account's). */
export type AuthorName = (accountId: number, profileId: number) => Promise<string | null>;

/** Stored files the deployments let go of (the system module deletes them from storage, later). */
export interface DeploymentFiles {
  /** Keys no manifest names (a build that failed for good, or was cancelled, wrote them). */
  release(tx: Db, keys: string[]): Promise<void>;
  /** Keys a manifest names again, in the transaction that names them. */
  keep(tx: Db, keys: string[]): Promise<void>;
}
