import type { Db } from '../../core/db.js';
import type { ErrorCode } from '../../core/errors.js';
import { record as recordEvent } from '../../core/events.js';
import type { Storage } from '../../core/storage.js';
import { ConnectionUnavailable, type SiteConnections, WordPressError } from '../integration/integration.service.js';
import type { PublishableArticle, PublishableImage, PublisherArticles } from './publisher.deps.js';
import { imageSources, rewriteImageSources } from './publisher.html.js';
import * as repo from './publisher.repository.js';
import { type PostFields, type RemotePost, type WordPressCalls, wordpressCalls } from './publisher.wordpress.js';

/**
 * Sending one publishing record to its site's WordPress, in an order that survives dying at any point: each
 * image is uploaded (with its alt text) and its media id stored at once; a new post is created as a draft under
 * the record's own slug `cf-<token>-<id>` and its id stored at once, then given its real fields; a rerun finds
 * what an earlier run made (the stored ids, else the exact marker slugs) and makes nothing twice. The post is
 * read back and its featured image and terms checked, since WordPress drops an unusable `featured_media` or term
 * id without a word. Only then are the record and the article marked published, with `content.published`.
 */

export interface SendDeps {
  articles: PublisherArticles;
  connections: SiteConnections;
  storage: Storage;
}

/** A failure of the publication itself (not of WordPress's transport): said as is, final unless `retryable`. */
export class PublishFailure extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode = 'service_unavailable',
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'PublishFailure';
  }
}

export interface Sent {
  record_id: number;
  content_id: number;
  external_id: string;
  external_url: string;
  remote_status: string;
  slug: string;
  media: number;
}

const PUBLISHABLE = ['approved', 'published'];

/** What the record's `error` says about a WordPress refusal: WordPress's own words, and what to do for auth. */
export function describeWordPressError(error: WordPressError): string {
  if (error.status === 401 || error.status === 403) {
    return (
      `${error.message} — check the username and application password of the site's WordPress integration ` +
      '(WordPress treats a wrong application password as no credentials at all).'
    );
  }
  return error.message;
}

async function checkCapabilities(wp: WordPressCalls, needs: { upload: boolean; publish: boolean }): Promise<void> {
  let me: Awaited<ReturnType<WordPressCalls['me']>>;
  try {
    me = await wp.me();
  } catch (error) {
    if (error instanceof WordPressError && (error.status === 401 || error.status === 403)) {
      throw new PublishFailure(`WordPress did not accept the integration's credentials: ${describeWordPressError(error)}`);
    }
    throw error;
  }
  const needed = ['edit_posts', ...(needs.publish ? ['publish_posts'] : []), ...(needs.upload ? ['upload_files'] : [])];
  const missing = needed.filter((capability) => me.capabilities[capability] !== true);
  if (missing.length > 0) {
    throw new PublishFailure(
      `The WordPress user of the integration (id ${me.id}) lacks the capabilities ${missing.join(', ')}; use an editor or administrator.`,
    );
  }
}

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/avif': 'avif',
};

/** The file name (and media slug) an image is uploaded under: readable, and unique by the record's token. */
const mediaName = (article: PublishableArticle, token: string, imageId: number) =>
  `${article.slug.slice(0, 60).replace(/-+$/, '') || 'image'}-${token}-${imageId}`;

async function ensureMedia(
  db: Db,
  deps: SendDeps,
  wp: WordPressCalls,
  row: repo.RecordRow,
  article: PublishableArticle,
  image: PublishableImage,
): Promise<{ id: number; url: string }> {
  const known = row.remote_media[String(image.id)];
  let remote = known ? await wp.media(known.id) : null;
  if (known && !remote) await repo.setRemoteMedia(db, row.account_id, row.id, image.id, null);
  const name = mediaName(article, row.remote_token ?? String(row.id), image.id);
  remote ??= await wp.mediaBySlug(name);
  if (!remote) {
    const file = image.storage_key ? await deps.storage.get(image.storage_key) : null;
    if (!file) throw new PublishFailure(`The file of image ${image.id} is missing from storage; generate the image again.`);
    const contentType = image.mime_type ?? file.contentType;
    remote = await wp.upload({
      bytes: file.body,
      contentType,
      name,
      extension: EXTENSIONS[contentType] ?? 'bin',
      alt: image.alt_text,
      caption: image.caption,
    });
  }
  // Stored before anything else is asked of WordPress: a rerun reuses it instead of uploading again.
  await repo.setRemoteMedia(db, row.account_id, row.id, image.id, { id: remote.id, url: remote.source_url });
  if (remote.alt_text !== image.alt_text) {
    remote = await wp.describeMedia(remote.id, { alt_text: image.alt_text, caption: image.caption });
  }
  return { id: remote.id, url: remote.source_url };
}

/** The images to send: the featured one, and every one of ours the article shows. */
function imagesToSend(article: PublishableArticle, images: PublishableImage[]) {
  const shown = new Set(imageSources(article.html));
  let featured: PublishableImage | null = null;
  if (article.featured_image_id !== null) {
    featured = images.find((image) => image.id === article.featured_image_id) ?? null;
    if (!featured?.storage_key) {
      throw new PublishFailure(
        `The featured image (image ${article.featured_image_id}) has no file yet (${featured?.status ?? 'missing'}); generate it or clear featured_image_id.`,
        'conflict',
      );
    }
  }
  const inArticle = images.filter((image) => image.storage_key && image.url !== null && shown.has(image.url));
  return { featured, inArticle };
}

/** The remote post with these fields: the record's own (updated), one an earlier run made, or a new one. */
async function ensurePost(db: Db, wp: WordPressCalls, row: repo.RecordRow, fields: PostFields): Promise<RemotePost> {
  if (row.external_id !== null) {
    const existing = await wp.post(Number(row.external_id));
    // Gone for good (deleted from the trash): a new post, since none would be duplicated.
    if (existing) return wp.updatePost(existing.id, fields);
  }
  const marker = `cf-${row.remote_token ?? 'record'}-${row.id}`;
  const draft =
    (await wp.postBySlug(marker)) ??
    (await wp.createPost({ ...fields, slug: marker, status: 'draft', date_gmt: undefined, featured_media: 0 }));
  await repo.updateRecord(db, row.account_id, row.id, { external_id: String(draft.id) });
  return wp.updatePost(draft.id, fields);
}

async function verify(
  db: Db,
  wp: WordPressCalls,
  row: repo.RecordRow,
  postId: number,
  fields: PostFields,
  featured: { imageId: number; mediaId: number } | null,
): Promise<RemotePost> {
  const post = await wp.post(postId);
  if (!post) throw new PublishFailure(`WordPress lost post ${postId} right after saving it.`, 'service_unavailable', true);
  if (featured && post.featured_media !== featured.mediaId) {
    if ((await wp.media(featured.mediaId)) === null) {
      await repo.setRemoteMedia(db, row.account_id, row.id, featured.imageId, null);
      throw new PublishFailure(
        `WordPress dropped the featured image of post ${postId}: media ${featured.mediaId} is gone from its library; it is uploaded again on the next attempt.`,
        'service_unavailable',
        true,
      );
    }
    throw new PublishFailure(
      `WordPress did not keep media ${featured.mediaId} as the featured image of post ${postId} (it answered featured_media ${post.featured_media}); ` +
        'the theme or a plugin may not support featured images on posts.',
    );
  }
  for (const taxonomy of ['categories', 'tags'] as const) {
    const dropped = fields[taxonomy].filter((id) => !post[taxonomy].includes(id));
    if (dropped.length > 0) {
      throw new PublishFailure(`WordPress did not keep the ${taxonomy} ${dropped.join(', ')} on post ${postId}.`);
    }
  }
  return post;
}

/** The article as it is now, if it may still be published, and the WordPress calls of its site. */
async function prepare(db: Db, deps: SendDeps, row: repo.RecordRow) {
  const article = await deps.articles.article(db, row.account_id, row.content_id);
  if (!article) throw new PublishFailure(`Article ${row.content_id} no longer exists.`, 'not_found');
  if (!PUBLISHABLE.includes(article.status)) {
    throw new PublishFailure(
      `Article ${article.id} is "${article.status}" now; only approved or published articles are published.`,
      'conflict',
    );
  }
  const images = imagesToSend(article, await deps.articles.images(db, row.account_id, article.id));
  let connection: Awaited<ReturnType<SiteConnections['wordpress']>>;
  try {
    connection = await deps.connections.wordpress(row.account_id, row.site_id);
  } catch (error) {
    if (error instanceof ConnectionUnavailable) throw new PublishFailure(`Cannot publish: ${error.message}.`);
    throw error;
  }
  const wp = wordpressCalls(connection.client);
  await checkCapabilities(wp, {
    upload: images.featured !== null || images.inArticle.length > 0,
    publish: row.remote_status !== 'draft',
  });
  return { article, wp, ...images };
}

/** The record and the article published, with `content.published`, in one transaction. */
async function commitPublished(db: Db, deps: SendDeps, row: repo.RecordRow, sent: Sent, by: SentBy): Promise<void> {
  await db.transaction(async (tx) => {
    await repo.updateRecord(tx, row.account_id, row.id, {
      status: 'published',
      external_id: sent.external_id,
      external_url: sent.external_url,
      error: null,
      published_at: new Date(),
    });
    await deps.articles.markPublished(tx, row.account_id, sent.content_id, {
      external_id: sent.external_id,
      external_url: sent.external_url,
      live: row.remote_status !== 'draft',
    });
    await recordEvent(tx, {
      account_id: row.account_id,
      site_id: row.site_id,
      type: 'content.published',
      source_agent: 'worker',
      actor_id: by.actorId,
      object_type: 'content',
      object_id: sent.content_id,
      payload: {
        record_id: row.id,
        destination: row.destination,
        external_id: sent.external_id,
        external_url: sent.external_url,
        remote_status: sent.remote_status,
        slug: sent.slug,
        media: sent.media,
        system_task_id: by.taskId,
      },
    });
  });
}

export interface SentBy {
  actorId: number | null;
  taskId: number | null;
}

/** Sends a claimed record; returns what was published, or throws (WordPressError, PublishFailure, …). */
export async function sendRecord(db: Db, deps: SendDeps, row: repo.RecordRow, by: SentBy): Promise<Sent> {
  const { article, wp, featured, inArticle } = await prepare(db, deps, row);
  const media = new Map<number, { id: number; url: string }>();
  for (const image of [...(featured ? [featured] : []), ...inArticle]) {
    if (!media.has(image.id)) media.set(image.id, await ensureMedia(db, deps, wp, row, article, image));
  }
  const urls = new Map<string, string>();
  for (const image of inArticle) {
    const uploaded = media.get(image.id);
    if (image.url !== null && uploaded) urls.set(image.url, uploaded.url);
  }
  const featuredMedia = featured ? { imageId: featured.id, mediaId: media.get(featured.id)?.id ?? 0 } : null;
  const fields: PostFields = {
    title: article.title,
    content: rewriteImageSources(article.html, urls),
    excerpt: article.meta_description,
    slug: article.slug,
    status: row.remote_status,
    ...(row.remote_status === 'future' && row.scheduled_for ? { date_gmt: row.scheduled_for.toISOString().slice(0, 19) } : {}),
    categories: await wp.terms('categories', article.categories),
    tags: await wp.terms('tags', article.tags),
    featured_media: featuredMedia?.mediaId ?? 0,
  };
  const saved = await ensurePost(db, wp, row, fields);
  const post = await verify(db, wp, row, saved.id, fields, featuredMedia);
  const sent: Sent = {
    record_id: row.id,
    content_id: article.id,
    external_id: String(post.id),
    external_url: post.link,
    remote_status: post.status,
    slug: post.slug,
    media: media.size,
  };
  await commitPublished(db, deps, row, sent, by);
  return sent;
}
