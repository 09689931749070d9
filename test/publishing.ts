import { newMediaKey } from '../src/core/storage.js';
import { writer_images } from '../src/modules/writer/writer.tables.js';
import type { SignedUp } from './factories.js';
import { pngOf } from './fake-images.js';
import type { TestApp } from './harness.js';

/**
 * An approved article for the publisher's tests, made as a user would (through the writer's routes), with
 * generated images set up directly (a stored PNG and its row, as the image job leaves them): a featured image
 * and in-article images shown in the html at their URLs.
 */

export interface ArticleImages {
  featured?: { alt: string; caption?: string; seed?: number };
  inArticle?: { alt: string; seed?: number }[];
}

export interface MadeArticle {
  id: number;
  slug: string;
  html: string;
  featuredImageId: number | null;
  inArticleImageIds: number[];
  imageUrls: string[];
}

async function expectOk(res: { statusCode: number; body: string }, what: string) {
  if (res.statusCode >= 300) throw new Error(`${what}: ${res.statusCode} ${res.body}`);
}

export async function storedImage(
  t: TestApp,
  owner: SignedUp,
  target: { site_id: number; sector_id: number; content_id: number },
  image: { type: 'featured' | 'in_article'; position: number; alt: string; caption?: string; seed?: number },
) {
  const key = newMediaKey('png');
  const png = pngOf(12, 8, image.seed ?? image.position);
  await t.app.services.storage.put(key, png, 'image/png');
  const url = `http://localhost/media/${key}`;
  const [row] = await t.database.db
    .insert(writer_images)
    .values({
      ...target,
      account_id: owner.accountId,
      image_type: image.type,
      position: image.position,
      prompt: `Image ${image.position}`,
      alt_text: image.alt,
      caption: image.caption ?? '',
      status: 'generated',
      storage_key: key,
      url,
      mime_type: 'image/png',
      bytes: png.length,
      width: 12,
      height: 8,
    })
    .returning({ id: writer_images.id });
  return { id: row?.id as number, url };
}

export async function approvedArticle(
  t: TestApp,
  owner: SignedUp,
  target: { site_id: number; sector_id: number },
  body: { title: string; html: string; slug?: string; categories?: string[]; tags?: string[]; meta_description?: string },
  images: ArticleImages = {},
): Promise<MadeArticle> {
  const api = (method: 'POST' | 'PATCH', url: string, payload?: object) =>
    t.request({ method, url, headers: owner.headers, ...(payload ? { payload } : {}) });
  const created = await api('POST', '/api/v1/writer/content/', { ...target, ...body });
  await expectOk(created, 'create content');
  const content = created.json().data;
  const where = { ...target, content_id: content.id as number };
  const featured = images.featured
    ? await storedImage(t, owner, where, { type: 'featured', position: 0, ...images.featured })
    : null;
  const inArticle = [];
  for (const [i, image] of (images.inArticle ?? []).entries()) {
    inArticle.push(await storedImage(t, owner, where, { type: 'in_article', position: i + 1, ...image }));
  }
  const figures = inArticle.map((img, i) => `<figure><img src="${img.url}" alt="${images.inArticle?.[i]?.alt}" /></figure>`);
  const patched = await api('PATCH', `/api/v1/writer/content/${content.id}/`, {
    html: `${body.html}${figures.join('')}`,
    ...(featured ? { featured_image_id: featured.id } : {}),
  });
  await expectOk(patched, 'add images');
  await expectOk(await api('POST', `/api/v1/writer/content/${content.id}/submit_for_review/`), 'submit');
  await expectOk(await api('POST', `/api/v1/writer/approvals/${content.id}/approve/`, {}), 'approve');
  return {
    id: content.id,
    slug: patched.json().data.slug,
    html: patched.json().data.html,
    featuredImageId: featured?.id ?? null,
    inArticleImageIds: inArticle.map((i) => i.id),
    imageUrls: inArticle.map((i) => i.url),
  };
}
