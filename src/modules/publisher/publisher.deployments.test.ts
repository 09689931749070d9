import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { parseSitemap } from 'sitemap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSector, createSite, rowsOf, type SignedUp, signUp } from '../../../test/factories.js';
import { pngOf } from '../../../test/fake-images.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { startS3, type TestS3 } from '../../../test/s3-server.js';
import { expectSecured } from '../../../test/security.js';
import { finishedTask } from '../../../test/wait.js';
import { newMediaKey } from '../../core/storage.js';
import { insertContent } from '../writer/writer.repository.js';
import { writer_images } from '../writer/writer.tables.js';
import { exportPath } from './publisher.deployments.service.js';

/**
 * Deployments end to end through the API and the real queue: an export of a site's published articles is
 * built into the storage layer (DATA_DIR/media here, s3rver below), served publicly at
 * /sites/<account_slug>/<site_slug>/ with its meta tags, JSON-LD, index, sitemap and copied images; a second
 * version after a new article, a rollback, ETags and 304s, traversal refused, another account's deployments
 * unseen, and a failed build (an image whose stored file is gone) leaving the current version serving.
 */

const DEPLOYMENTS = '/api/v1/publisher/deployments';

interface Owner extends SignedUp {
  siteId: number;
  siteSlug: string;
  sectorId: number;
  accountSlug: string;
}
interface Article {
  id: number;
  slug: string;
  title: string;
  imageKeys: string[];
}

let t: TestApp;
let owner: Owner;
let stranger: Owner;
const articles: Article[] = [];

async function newOwner(app: TestApp): Promise<Owner> {
  const who = await signUp(app);
  const site = await createSite(app, who, `Trail Notes ${randomBytes(3).toString('hex')}`);
  const sectorId = (await createSector(app, who, site.id)).id;
  const [account] = await rowsOf<{ slug: string }>(app, sql`select slug from auth_accounts where id = ${who.accountId}`);
  return { ...who, siteId: site.id, siteSlug: site.slug, sectorId, accountSlug: account?.slug ?? '' };
}

/** A stored PNG and its image row (generated), as the writer's image job leaves them. */
async function storedImage(app: TestApp, who: Owner, contentId: number, type: 'featured' | 'in_article', seed: number) {
  const { storage } = app.app.services;
  const key = newMediaKey('png');
  await storage.put(key, pngOf(8, 6, seed), 'image/png');
  const [row] = await app.database.db
    .insert(writer_images)
    .values({
      account_id: who.accountId,
      site_id: who.siteId,
      sector_id: who.sectorId,
      content_id: contentId,
      image_type: type,
      position: type === 'featured' ? 0 : 1,
      prompt: 'a trail at dawn',
      alt_text: `Alt ${seed} "quoted"`,
      status: 'generated',
      storage_key: key,
      url: storage.urlFor(key),
      mime_type: 'image/png',
      width: 8,
      height: 6,
    })
    .returning({ id: writer_images.id });
  return { id: row?.id ?? 0, key, url: storage.urlFor(key) };
}

/** A published article with a featured and an in-article image (status set directly: the publisher sets it). */
async function publishedArticle(app: TestApp, who: Owner, title: string, status = 'published'): Promise<Article> {
  const content = await insertContent(app.database.db, who.accountId, {
    site_id: who.siteId,
    sector_id: who.sectorId,
    title,
    html: '<p>Intro.</p>',
    meta_description: `About ${title}`,
    tags: ['trail', 'shoes'],
  });
  const featured = await storedImage(app, who, content.id, 'featured', content.id);
  const inline = await storedImage(app, who, content.id, 'in_article', content.id + 1000);
  const html = `<p>Intro.</p><h2>Grip</h2><figure><img src="${inline.url}" alt="Lugs" /></figure><p>Mud &amp; rock.</p>`;
  await app.database.db.execute(
    sql`update writer_content set status = ${status}, html = ${html}, featured_image_id = ${featured.id} where id = ${content.id}`,
  );
  return { id: content.id, slug: content.slug, title, imageKeys: [featured.key, inline.key] };
}

async function call(app: TestApp, who: SignedUp, method: 'GET' | 'POST', url: string, payload?: object) {
  return app.request({ method, url, headers: who.headers, ...(payload ? { payload } : {}) });
}

const waitTask = (app: TestApp, who: SignedUp, id: number) => finishedTask(app, who.headers, id);

/** Creates a deployment and waits for its task; answers the deployment as it then reads. */
async function deploy(app: TestApp, who: Owner, expectTask = 'succeeded') {
  const res = await call(app, who, 'POST', `${DEPLOYMENTS}/`, { site_id: who.siteId });
  expect(res.statusCode, res.body).toBe(202);
  const { task_id, deployment } = res.json().data;
  expect(res.headers.location).toContain(`/api/v1/system/tasks/${task_id}/`);
  expect(deployment).toMatchObject({ site_id: who.siteId, status: 'pending', is_current: false, task_id });
  const task = await waitTask(app, who, task_id);
  expect(task.status, JSON.stringify(task)).toBe(expectTask);
  return (await call(app, who, 'GET', `${DEPLOYMENTS}/${deployment.id}/`)).json().data;
}

const siteRoot = (who: Owner) => `/sites/${who.accountSlug}/${who.siteSlug}/`;
const get = (app: TestApp, url: string, headers: Record<string, string> = {}) => app.request({ method: 'GET', url, headers });

function jsonLdOf(html: string): Record<string, unknown> {
  const match = /<script type="application\/ld\+json">([\s\S]*?)<\/script>/.exec(html);
  expect(match, 'a JSON-LD script').not.toBeNull();
  return JSON.parse(match?.[1] ?? 'null');
}

const metaOf = (html: string, attribute: 'name' | 'property', name: string) =>
  new RegExp(`<meta ${attribute}="${name.replace(/[:.]/g, '\\$&')}" content="([^"]*)">`).exec(html)?.[1];

async function sitemapUrls(app: TestApp, who: Owner) {
  const res = await get(app, `${siteRoot(who)}sitemap.xml`);
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/xml/);
  const items = await parseSitemap(Readable.from([res.body]));
  for (const item of items) expect(item.lastmod, item.url).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  return items.map((i) => i.url).sort();
}

/** URLs as the sitemap writes them (normalised: no default port). */
function normalised(urls: string[]): string[] {
  return urls.map((u) => new URL(u).href).sort();
}

const TRICKY = 'Trail shoes </script><script>alert(1)</script> & "grip"';

beforeAll(async () => {
  t = await buildTestApp({ WORKER: 'true', JOBS_POLL_MS: '50' });
  owner = await newOwner(t);
  stranger = await newOwner(t);
  articles.push(await publishedArticle(t, owner, TRICKY));
  articles.push(await publishedArticle(t, owner, 'Lacing for steep descents'));
  // A draft and another account's published article: neither is in the export.
  await publishedArticle(t, owner, 'Unfinished draft', 'draft');
  await publishedArticle(t, stranger, 'Their article');
});
afterAll(async () => {
  await t?.close();
});

describe('deployments', () => {
  let first: { id: number; version: number; url: string; metadata: Record<string, unknown> };

  it('builds version 1 and serves the article with its meta tags, canonical URL and JSON-LD', async () => {
    first = await deploy(t, owner);
    expect(first).toMatchObject({ version: 1, status: 'deployed', is_current: true, error: null });
    expect(first.url).toMatch(new RegExp(`/sites/${owner.accountSlug}/${owner.siteSlug}/$`));
    expect(first.metadata).toMatchObject({ pages: 3, articles: 2, images: 4, files: 4 + 3 + 2 });
    expect(first.metadata.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(first).not.toHaveProperty('manifest');

    const article = articles[0] as Article;
    const res = await get(t, `${siteRoot(owner)}${article.slug}/`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = res.body;
    // The title's `</script>` stays text everywhere: escaped in HTML, \u003c in the JSON-LD.
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('<h1>Trail shoes &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;grip&quot;</h1>');
    const canonical = `${first.url}${article.slug}/`;
    expect(html).toContain(`<link rel="canonical" href="${canonical}">`);
    expect(metaOf(html, 'name', 'description')).toBe(
      `About Trail shoes &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;grip&quot;`,
    );
    expect(metaOf(html, 'property', 'og:type')).toBe('article');
    expect(metaOf(html, 'property', 'og:url')).toBe(canonical);
    expect(metaOf(html, 'property', 'og:image')).toMatch(new RegExp(`^${first.url}images/[0-9a-f]{32}\\.png$`));
    const ld = jsonLdOf(html);
    expect(ld).toMatchObject({
      '@context': 'https://schema.org',
      '@type': 'Article',
      headline: TRICKY,
      mainEntityOfPage: { '@id': canonical },
      publisher: { '@type': 'Organization' },
      keywords: 'trail, shoes',
    });
    expect(new Date(String(ld.datePublished)).toISOString()).toBe(ld.datePublished);
    expect(ld.dateModified).toBeTypeOf('string');
    expect(ld.image).toEqual([metaOf(html, 'property', 'og:image')]);

    // Both images copied into the export, the article's addresses rewritten to the copies, /media/ gone.
    expect(html).not.toContain('/media/');
    const srcs = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(srcs).toHaveLength(2);
    for (const src of srcs) {
      expect(src).toMatch(/^\.\.\/images\/[0-9a-f]{32}\.png$/);
      const image = await get(t, new URL(src, `http://x${siteRoot(owner)}${article.slug}/`).pathname);
      expect(image.statusCode).toBe(200);
      expect(image.headers['content-type']).toBe('image/png');
      expect(image.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(image.rawPayload.subarray(1, 4).toString()).toBe('PNG');
    }
  });

  it('serves an index of the published articles, a sitemap of exactly their URLs and robots.txt', async () => {
    const index = await get(t, siteRoot(owner));
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    for (const a of articles) expect(index.body).toContain(`<a href="${a.slug}/">`);
    expect(index.body).not.toContain('Unfinished draft');
    expect(index.body).not.toContain('Their article');
    expect(await sitemapUrls(t, owner)).toEqual(normalised(articles.map((a) => `${first.url}${a.slug}/`)));
    const robots = await get(t, `${siteRoot(owner)}robots.txt`);
    expect(robots.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(robots.body).toContain(`Sitemap: ${first.url}sitemap.xml`);
  });

  it('answers strong ETags from the content and 304 to If-None-Match; pages are revalidated', async () => {
    const url = `${siteRoot(owner)}${(articles[1] as Article).slug}/`;
    const res = await get(t, url);
    const etag = String(res.headers.etag);
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect(res.headers['cache-control']).toBe('public, no-cache');
    const again = await get(t, url, { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);
    expect((await get(t, url, { 'if-none-match': `"other", W/${etag}` })).statusCode).toBe(304);
    expect((await get(t, url, { 'if-none-match': '"something-else"' })).statusCode).toBe(200);
  });

  it('redirects a directory asked without its slash', async () => {
    const root = await get(t, siteRoot(owner).slice(0, -1));
    expect(root.statusCode).toBe(301);
    expect(root.headers.location).toMatch(new RegExp(`^https?://[^/]+${siteRoot(owner)}$`));
    const page = await get(t, `${siteRoot(owner)}${(articles[0] as Article).slug}`);
    expect(page.statusCode).toBe(301);
    expect(page.headers.location).toMatch(new RegExp(`${siteRoot(owner)}${(articles[0] as Article).slug}/$`));
  });

  it('refuses traversal and answers 404 in the contract shape for what is not there', async () => {
    const base = siteRoot(owner);
    const key = (articles[0] as Article).imageKeys[0];
    const attempts = [
      `${base}../../media/${key}`,
      `${base}%2e%2e/%2e%2e/media/${key}`,
      `${base}%2e%2e%2f%2e%2e%2fmedia%2f${key}`,
      `${base}..%2f..%2f..%2fetc%2fpasswd`,
      `${base}..%5c..%5cetc%5cpasswd`,
      `${base}/etc/passwd`,
      `${base}%2fetc%2fpasswd`,
      `${base}.env`,
      `${base}no-such-article/`,
      `${base}index.html%00.png`,
      `/sites/${owner.accountSlug}/no-such-site/`,
      `/sites/no-such-account/${owner.siteSlug}/`,
      // The same site slug under another account is another site: the address names both.
      `/sites/${stranger.accountSlug}/${owner.siteSlug}/`,
    ];
    for (const url of attempts) {
      const res = await get(t, url);
      // The router may resolve `..` itself, to a URL outside this site: never a file of the export, never a 200.
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toMatchObject({ success: false, code: 'not_found' });
    }
  });

  it('versions a second deployment after a new article; a rollback serves the previous version again', async () => {
    const added = await publishedArticle(t, owner, 'Waterproof or not');
    const second = await deploy(t, owner);
    expect(second).toMatchObject({ version: 2, status: 'deployed', is_current: true });
    expect((await call(t, owner, 'GET', `${DEPLOYMENTS}/${first.id}/`)).json().data).toMatchObject({
      status: 'deployed',
      is_current: false,
    });
    expect((await get(t, `${siteRoot(owner)}${added.slug}/`)).statusCode).toBe(200);
    expect(await sitemapUrls(t, owner)).toHaveLength(3);

    const rolled = await call(t, owner, 'POST', `${DEPLOYMENTS}/${second.id}/rollback/`);
    expect(rolled.statusCode, rolled.body).toBe(200);
    expect(rolled.json().data).toMatchObject({ id: second.id, status: 'rolled_back', is_current: false });
    expect(rolled.json().message).toBe('Version 1 is current again.');
    expect((await call(t, owner, 'GET', `${DEPLOYMENTS}/${first.id}/`)).json().data.is_current).toBe(true);
    expect((await get(t, `${siteRoot(owner)}${added.slug}/`)).statusCode).toBe(404);
    expect(await sitemapUrls(t, owner)).toEqual(normalised(articles.map((a) => `${first.url}${a.slug}/`)));

    // Version 2 is no longer current; version 1 has nothing older: both 409, naming the state.
    const notCurrent = await call(t, owner, 'POST', `${DEPLOYMENTS}/${second.id}/rollback/`);
    expect(notCurrent.statusCode).toBe(409);
    expect(notCurrent.json()).toMatchObject({ code: 'conflict', details: { current_status: 'rolled_back' } });
    const nothingOlder = await call(t, owner, 'POST', `${DEPLOYMENTS}/${first.id}/rollback/`);
    expect(nothingOlder.statusCode).toBe(409);
    expect(nothingOlder.json().error).toMatch(/no earlier deployed version/);

    const feed = (await call(t, owner, 'GET', '/api/v1/events/?object_type=deployment&page_size=50')).json().data.results;
    const types = feed.map((e: { type: string; object_id: number }) => `${e.type}:${e.object_id}`);
    expect(types).toEqual(
      expect.arrayContaining([
        `deployment.created:${first.id}`,
        `deployment.completed:${first.id}`,
        `deployment.created:${second.id}`,
        `deployment.completed:${second.id}`,
        `deployment.rolled_back:${second.id}`,
      ]),
    );
  });

  it('a failed build leaves the current version serving', async () => {
    const before = await get(t, siteRoot(owner));
    const article = articles[1] as Article;
    const missing = article.imageKeys[1] as string;
    const { storage } = t.app.services;
    const bytes = (await storage.get(missing))?.body;
    await storage.delete(missing);
    try {
      const failed = await deploy(t, owner, 'failed');
      expect(failed).toMatchObject({ version: 3, status: 'failed', is_current: false });
      expect(failed.error).toMatch(/missing from storage/);
      const current = await get(t, siteRoot(owner));
      expect(current.statusCode).toBe(200);
      expect(current.headers.etag).toBe(before.headers.etag);
      // The current export holds its own copy of the image whose original is gone.
      const page = await get(t, `${siteRoot(owner)}${article.slug}/`);
      for (const [, src] of page.body.matchAll(/<img src="\.\.\/([^"]+)"/g)) {
        expect((await get(t, `${siteRoot(owner)}${src}`)).statusCode).toBe(200);
      }
      const events = (await call(t, owner, 'GET', `/api/v1/events/?object_type=deployment&object_id=${failed.id}`)).json().data
        .results;
      expect(events.map((e: { type: string }) => e.type)).toContain('deployment.failed');
    } finally {
      if (bytes) await storage.put(missing, bytes, 'image/png');
    }
  });

  it('a job run again rewrites the same version folder, never a second version', async () => {
    const current = (await call(t, owner, 'GET', `${DEPLOYMENTS}/?site_id=${owner.siteId}&is_current=true`)).json().data
      .results[0];
    const count = async () =>
      (
        await rowsOf<{ n: number }>(t, sql`select count(*)::int as n from publisher_deployments where site_id = ${owner.siteId}`)
      )[0]?.n;
    const total = await count();
    // An attempt that died mid-build: the row still reads `deploying` when the job runs again.
    await t.database.db.execute(sql`update publisher_deployments set status = 'deploying' where id = ${current.id}`);
    const payload = { account_id: owner.accountId, actor_id: owner.userId, deployment_id: current.id };
    const run = () =>
      t.app.services.jobs.runHandler('publisher.deploy', payload, {
        jobId: randomBytes(8).toString('hex'),
        accountId: owner.accountId,
      });
    const result = (await run()) as { version: number; metadata: { checksum: string } };
    expect(result.version).toBe(current.version);
    // Built again from the same articles, the same bytes at the same paths.
    await t.database.db.execute(sql`update publisher_deployments set status = 'deploying' where id = ${current.id}`);
    const again = (await run()) as { version: number; metadata: { checksum: string; files: number } };
    expect(again.metadata.checksum).toBe(result.metadata.checksum);
    // The manifest was replaced, not appended to.
    const [files] = await rowsOf<{ n: number }>(
      t,
      sql`select count(*)::int as n from publisher_deployment_files where deployment_id = ${current.id}`,
    );
    expect(files?.n).toBe((again.metadata as { files?: number }).files);
    // Done: a further run changes nothing.
    expect(((await run()) as { version: number }).version).toBe(current.version);
    expect(await count()).toBe(total);
    const [row] = await rowsOf<{ status: string; is_current: boolean }>(
      t,
      sql`select status, is_current from publisher_deployments where id = ${current.id}`,
    );
    expect(row).toEqual({ status: 'deployed', is_current: true });
  });

  it('gives two concurrent creates of one site two versions', async () => {
    const [a, b] = await Promise.all([
      call(t, owner, 'POST', `${DEPLOYMENTS}/`, { site_id: owner.siteId }),
      call(t, owner, 'POST', `${DEPLOYMENTS}/`, { site_id: owner.siteId }),
    ]);
    expect([a?.statusCode, b?.statusCode]).toEqual([202, 202]);
    const versions = [a?.json().data.deployment.version, b?.json().data.deployment.version].sort();
    expect(versions[1]).toBe(versions[0] + 1);
    for (const res of [a, b]) await waitTask(t, owner, res?.json().data.task_id);
    const current = (await call(t, owner, 'GET', `${DEPLOYMENTS}/?site_id=${owner.siteId}&is_current=true`)).json().data.results;
    expect(current.map((d: { version: number }) => d.version)).toEqual([versions[1]]);
  });

  it('lists and filters; validates bodies and queries', async () => {
    const list = await call(t, owner, 'GET', `${DEPLOYMENTS}/?site_id=${owner.siteId}&status=failed`);
    expect(list.statusCode).toBe(200);
    expect(list.json().data.results.map((d: { version: number }) => d.version)).toEqual([3]);
    const ordered = (await call(t, owner, 'GET', `${DEPLOYMENTS}/?ordering=version&site_id=${owner.siteId}`)).json().data.results;
    expect(ordered.map((d: { version: number }) => d.version)).toEqual(
      [...ordered.map((d: { version: number }) => d.version)].sort((x, y) => x - y),
    );

    for (const [payload, field] of [
      [{}, 'site_id'],
      [{ site_id: String(owner.siteId) }, 'site_id'],
      [{ site_id: owner.siteId, version: 9 }, 'version'],
      [{ site_id: 2_147_483_647 }, 'site_id'],
    ] as const) {
      const res = await call(t, owner, 'POST', `${DEPLOYMENTS}/`, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().code).toBe('validation_error');
      expect(res.json().errors[field], res.body).toBeDefined();
    }
    const badFilter = await call(t, owner, 'GET', `${DEPLOYMENTS}/?status=shipped`);
    expect(badFilter.statusCode).toBe(400);
    expect((await call(t, owner, 'GET', `${DEPLOYMENTS}/?colour=red`)).statusCode).toBe(400);
    expect((await call(t, owner, 'GET', `${DEPLOYMENTS}/0/`)).statusCode).toBe(404);
    expect((await call(t, owner, 'GET', `${DEPLOYMENTS}/99999999/`)).statusCode).toBe(404);
  });

  it("keeps another account's deployments out of reach", async () => {
    const theirs = (await call(t, stranger, 'GET', `${DEPLOYMENTS}/`)).json().data;
    expect(theirs.count).toBe(0);
    for (const [method, url] of [
      ['GET', `${DEPLOYMENTS}/${first.id}/`],
      ['POST', `${DEPLOYMENTS}/${first.id}/rollback/`],
    ] as const) {
      const res = await call(t, stranger, method, url);
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('not_found');
    }
    const create = await call(t, stranger, 'POST', `${DEPLOYMENTS}/`, { site_id: owner.siteId });
    expect(create.statusCode).toBe(400);
    expect(create.json().errors.site_id).toEqual(['Unknown site.']);
  });

  it('deploys a site with no published article: an index that says so, a sitemap of the index alone', async () => {
    const empty = await newOwner(t);
    const deployment = await deploy(t, empty);
    expect(deployment.metadata).toMatchObject({ pages: 1, articles: 0, images: 0, files: 3 });
    expect((await get(t, siteRoot(empty))).body).toContain('No articles yet.');
    expect(await sitemapUrls(t, empty)).toEqual(normalised([deployment.url]));
  });

  it('runs the shared security checks', async () => {
    await expectSecured(t, { method: 'GET', url: `${DEPLOYMENTS}/`, owner });
    await expectSecured(t, { method: 'GET', url: `${DEPLOYMENTS}/${first.id}/`, owner, objectScoped: true });
    await expectSecured(t, {
      method: 'POST',
      url: `${DEPLOYMENTS}/`,
      owner,
      payload: { site_id: owner.siteId },
      siteScopedBody: true,
    });
    await expectSecured(t, { method: 'POST', url: `${DEPLOYMENTS}/${first.id}/rollback/`, owner, objectScoped: true });
  });
});

describe("deployments on S3 storage, with the site's own URL", () => {
  let s3: TestS3;
  let app: TestApp;
  let who: Owner;
  beforeAll(async () => {
    s3 = await startS3(`deploy-${randomBytes(4).toString('hex')}`);
    app = await buildTestApp({ ...s3.env, WORKER: 'true', JOBS_POLL_MS: '50' });
    who = await newOwner(app);
    const patched = await app.request({
      method: 'PATCH',
      url: `/api/v1/auth/sites/${who.siteId}/`,
      headers: who.headers,
      payload: { url: 'https://trail.example.com/blog/' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
  });
  afterAll(async () => {
    await app?.close();
    await s3?.close();
  });

  it('writes the export to the bucket and serves it; canonical URLs and the sitemap use the site URL', async () => {
    const article = await publishedArticle(app, who, 'Gaiters in the rain');
    // Written under an author profile, and published to WordPress before: both reach the JSON-LD.
    const profile = await call(app, who, 'POST', '/api/v1/system/author-profiles/', { name: 'Ada Trail' });
    expect(profile.statusCode, profile.body).toBe(201);
    const task = await call(app, who, 'POST', '/api/v1/writer/tasks/', {
      site_id: who.siteId,
      sector_id: who.sectorId,
      title: 'Gaiters',
      author_profile_id: profile.json().data.id,
    });
    expect(task.statusCode, task.body).toBe(201);
    await app.database.db.execute(sql`update writer_content set task_id = ${task.json().data.id} where id = ${article.id}`);
    const publishedAt = '2026-11-30T08:00:00.000Z';
    await app.database.db.execute(
      sql`insert into publisher_records (account_id, site_id, content_id, destination, status, published_at)
          values (${who.accountId}, ${who.siteId}, ${article.id}, 'wordpress', 'published', ${publishedAt})`,
    );
    const deployment = await deploy(app, who);
    expect(deployment).toMatchObject({ version: 1, status: 'deployed', is_current: true });
    const objects = await rowsOf<{ storage_prefix: string }>(
      app,
      sql`select storage_prefix from publisher_deployments where id = ${deployment.id}`,
    );
    const stored = await app.app.services.storage.get(`${objects[0]?.storage_prefix}/${article.slug}/index.html`);
    expect(stored?.contentType).toBe('text/html; charset=utf-8');

    const page = await get(app, `${siteRoot(who)}${article.slug}/`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toBe(stored?.body.toString('utf8'));
    expect(page.body).toContain(`<link rel="canonical" href="https://trail.example.com/blog/${article.slug}/">`);
    expect(jsonLdOf(page.body)).toMatchObject({
      headline: 'Gaiters in the rain',
      url: `https://trail.example.com/blog/${article.slug}/`,
      author: { '@type': 'Person', name: 'Ada Trail' },
      datePublished: publishedAt,
    });
    expect(await sitemapUrls(app, who)).toEqual([`https://trail.example.com/blog/${article.slug}/`]);
    const [src] = [...page.body.matchAll(/<img src="\.\.\/([^"]+)"/g)].map((m) => m[1]);
    const image = await get(app, `${siteRoot(who)}${src}`);
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
  });
});

describe('versions kept (DEPLOYMENT_KEEP_VERSIONS=2) and the files let go', () => {
  let app: TestApp;
  let who: Owner;
  beforeAll(async () => {
    app = await buildTestApp({ WORKER: 'true', JOBS_POLL_MS: '50', DEPLOYMENT_KEEP_VERSIONS: '2' });
    who = await newOwner(app);
  });
  afterAll(() => app?.close());

  const keysOf = async (deploymentId: number) =>
    (
      await rowsOf<{ key: string }>(app, sql`select key from publisher_deployment_files where deployment_id = ${deploymentId}`)
    ).map((r) => r.key);
  const released = async (prefix: string) =>
    (
      await rowsOf<{ storage_key: string }>(
        app,
        sql`select storage_key from system_released_files where storage_key like ${`${prefix}%`}`,
      )
    ).map((r) => r.storage_key);
  const purge = () =>
    app.app.services.jobs.runHandler('system.purge_released_files', {}, { jobId: randomUUID(), accountId: null });

  it('deletes the versions past the newest two with their files; the current one serves on', async () => {
    const first = await publishedArticle(app, who, 'Poles or no poles');
    const v1 = await deploy(app, who);
    const v1Keys = await keysOf(v1.id);
    expect(v1Keys.length).toBeGreaterThan(3);
    await deploy(app, who);
    const v3 = await deploy(app, who);
    expect(v3).toMatchObject({ version: 3, is_current: true });
    const task = (await call(app, who, 'GET', `/api/v1/system/tasks/${v3.task_id}/`)).json().data;
    expect(task.result.pruned_versions).toEqual([1]);
    const listed = (await call(app, who, 'GET', `${DEPLOYMENTS}/?site_id=${who.siteId}`)).json().data.results;
    expect(listed.map((d: { version: number }) => d.version)).toEqual([3, 2]);
    expect((await call(app, who, 'GET', `${DEPLOYMENTS}/${v1.id}/`)).statusCode).toBe(404);
    const events = (await call(app, who, 'GET', `/api/v1/events/?type=deployment.pruned`)).json().data.results;
    expect(events).toMatchObject([{ object_id: v1.id, payload: { version: 1, keep_versions: 2 } }]);
    // Released by the manifest's trigger, deleted by the purge, once.
    expect((await released(`deployments/${who.siteId}/1/`)).sort()).toEqual([...v1Keys].sort());
    const { storage } = app.app.services;
    expect(await storage.get(v1Keys[0] as string)).not.toBeNull();
    expect(await purge()).toMatchObject({ purged: v1Keys.length });
    for (const key of v1Keys) expect(await storage.get(key)).toBeNull();
    expect(await released(`deployments/${who.siteId}/1/`)).toEqual([]);
    expect((await get(app, `${siteRoot(who)}${first.slug}/`)).statusCode).toBe(200);
    for (const key of await keysOf(v3.id)) expect(await storage.get(key), key).not.toBeNull();
  });

  it('a build that fails for good lets go of the files it had written', async () => {
    const broken = await publishedArticle(app, who, 'Zz broken last');
    const { storage } = app.app.services;
    const missing = broken.imageKeys[1] as string;
    const bytes = (await storage.get(missing))?.body as Buffer;
    await storage.delete(missing);
    const failed = await deploy(app, who, 'failed');
    expect(failed).toMatchObject({ version: 4, status: 'failed' });
    const written = await released(`deployments/${who.siteId}/4/`);
    // The first article's page and images were written before the second one's image was found missing.
    expect(written.length).toBeGreaterThan(0);
    await purge();
    for (const key of written) expect(await storage.get(key), key).toBeNull();
    // A rerun of a built version reuses its keys: they are not left released.
    await storage.put(missing, bytes, 'image/png');
    const current = (await call(app, who, 'GET', `${DEPLOYMENTS}/?site_id=${who.siteId}&is_current=true`)).json().data.results[0];
    await app.database.db.execute(sql`update publisher_deployments set status = 'deploying' where id = ${current.id}`);
    await app.app.services.jobs.runHandler(
      'publisher.deploy',
      { account_id: who.accountId, actor_id: who.userId, deployment_id: current.id },
      { jobId: randomUUID(), accountId: who.accountId },
    );
    expect(await released(`deployments/${who.siteId}/${current.version}/`)).toEqual([]);
  });
});

describe('export paths', () => {
  it('refuses every path that could leave the export, before any lookup', () => {
    for (const raw of [
      '..',
      '../x',
      'a/../b',
      'a/./b',
      './a',
      '.env',
      'a/.git/config',
      'a\\..\\b',
      'a\0b',
      '/etc/passwd',
      'a//b',
    ]) {
      expect(exportPath(raw), raw).toBeNull();
    }
    expect(exportPath('')).toBe('index.html');
    expect(exportPath('trail-shoes/')).toBe('trail-shoes/index.html');
    expect(exportPath('images/ab12.png')).toBe('images/ab12.png');
  });
});
