import { and, asc, eq, gt, inArray, isNotNull } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { writer_content, writer_images, writer_tasks } from './writer.tables.js';

/**
 * A site's published articles as a static export reads them (the publisher's deployments): the stored,
 * already sanitised HTML, the fields a page's head needs, and the generated images with their storage keys,
 * in batches by id so a site of thousands of articles is never held in memory at once.
 */

export interface PublishedImage {
  id: number;
  image_type: 'featured' | 'in_article';
  storage_key: string;
  /** Where the article's HTML reads it (`/media/<key>`): the export rewrites this address to its copy. */
  url: string | null;
  mime_type: string | null;
  alt_text: string;
  width: number | null;
  height: number | null;
}

export interface PublishedArticle {
  id: number;
  title: string;
  slug: string;
  html: string;
  meta_title: string;
  meta_description: string;
  primary_keyword: string;
  categories: string[];
  tags: string[];
  featured_image_id: number | null;
  /** The author profile of the task that wrote it, when one was chosen. */
  author_profile_id: number | null;
  created_at: Date;
  updated_at: Date;
  images: PublishedImage[];
}

export async function publishedArticles(
  db: Db,
  accountId: number,
  siteId: number,
  options: { afterId: number; limit: number },
): Promise<PublishedArticle[]> {
  const rows = await db
    .select({
      id: writer_content.id,
      title: writer_content.title,
      slug: writer_content.slug,
      html: writer_content.html,
      meta_title: writer_content.meta_title,
      meta_description: writer_content.meta_description,
      primary_keyword: writer_content.primary_keyword,
      categories: writer_content.categories,
      tags: writer_content.tags,
      featured_image_id: writer_content.featured_image_id,
      author_profile_id: writer_tasks.author_profile_id,
      created_at: writer_content.created_at,
      updated_at: writer_content.updated_at,
    })
    .from(writer_content)
    .leftJoin(writer_tasks, eq(writer_tasks.id, writer_content.task_id))
    .where(
      and(
        eq(writer_content.account_id, accountId),
        eq(writer_content.site_id, siteId),
        eq(writer_content.status, 'published'),
        gt(writer_content.id, options.afterId),
      ),
    )
    .orderBy(asc(writer_content.id))
    .limit(options.limit);
  if (rows.length === 0) return [];
  const images = await db
    .select({
      id: writer_images.id,
      content_id: writer_images.content_id,
      image_type: writer_images.image_type,
      storage_key: writer_images.storage_key,
      url: writer_images.url,
      mime_type: writer_images.mime_type,
      alt_text: writer_images.alt_text,
      width: writer_images.width,
      height: writer_images.height,
    })
    .from(writer_images)
    .where(
      and(
        eq(writer_images.account_id, accountId),
        inArray(
          writer_images.content_id,
          rows.map((r) => r.id),
        ),
        eq(writer_images.status, 'generated'),
        isNotNull(writer_images.storage_key),
      ),
    )
    .orderBy(asc(writer_images.content_id), asc(writer_images.position), asc(writer_images.id));
  return rows.map((row) => ({
    ...row,
    images: images
      .filter((image) => image.content_id === row.id)
      .map(({ content_id: _, storage_key, ...image }) => ({ ...image, storage_key: storage_key ?? '' })),
  }));
}
