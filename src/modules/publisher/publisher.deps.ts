import type { Db } from '../../core/db.js';

/**
 * What the publisher needs of other modules, as narrow interfaces wired in src/modules.ts: the writer's
 * articles and images (read, and marked published or unpublished), and a site's WordPress connection (the
 * integration module's siteConnections, used as it is).
 */

export interface PublishableArticle {
  id: number;
  site_id: number;
  title: string;
  html: string;
  meta_description: string;
  slug: string;
  categories: string[];
  tags: string[];
  featured_image_id: number | null;
  status: string;
  external_id: string | null;
  external_url: string | null;
}

export interface PublishableImage {
  id: number;
  content_id: number;
  image_type: string;
  status: string;
  alt_text: string;
  caption: string;
  storage_key: string | null;
  url: string | null;
  mime_type: string | null;
}

export interface PublisherArticles {
  /** The caller's article (null when not found, another account's, or outside `siteIds`). */
  article(db: Db, accountId: number, id: number, siteIds?: number[] | null): Promise<PublishableArticle | null>;
  /** An article's images, featured first. */
  images(db: Db, accountId: number, contentId: number): Promise<PublishableImage[]>;
  /**
   * The remote post's id and link on the article, and (`live`) `approved` → `published`, in the caller's
   * transaction; returns the article as it now is.
   */
  markPublished(
    tx: Db,
    accountId: number,
    id: number,
    remote: { external_id: string; external_url: string; live: boolean },
  ): Promise<PublishableArticle>;
  /** The remote post was trashed: `published` → `approved`, its link cleared (its id kept for a republish). */
  markUnpublished(tx: Db, accountId: number, id: number): Promise<PublishableArticle>;
}
