import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSector, createSite, rowsOf, type SignedUp, signUp } from '../../../test/factories.js';
import { connectWordPress } from '../../../test/fake-wordpress.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { approvedArticle } from '../../../test/publishing.js';
import { wordpressPeer } from '../../../test/wordpress-peer.js';
import { startTask } from '../../core/tasks.js';
import { createWordPressClient } from '../integration/integration.wordpress.js';

/**
 * The publisher against the real WordPress peer (../shared/peers/wordpress): an approved article with a
 * featured image, an in-article image, categories and tags is published and read back from WordPress; edited
 * and published again (the same post, no new media); unpublished (trashed); refused with a wrong application
 * password; and its job run twice leaves one post and one media item per image. The app runs no worker: each
 * test runs the queued task's handler itself, as the worker would, so nothing waits on the queue's polling.
 * Names carry this run's random suffix, and everything made on the peer is force-deleted at the end.
 */

const peer = await wordpressPeer('publisher');

/** The parts of WordPress's answers (`context=edit`) the tests read. */
interface PostRead {
  status: string;
  slug: string;
  link: string;
  title: { raw: string };
  content: { raw: string };
  excerpt: { raw: string };
  categories: number[];
  tags: number[];
  featured_media: number;
}
interface MediaRead {
  alt_text: string;
  caption: { raw: string };
  media_type: string;
}
const RUN = randomBytes(4).toString('hex');
const PUBLISH = '/api/v1/publisher/publish/';
const RECORDS = '/api/v1/publisher/publishing-records';

describe.skipIf(!peer)('publishing to the real WordPress', () => {
  const site = peer ?? { baseUrl: '', restUrl: '', username: '', applicationPassword: '' };
  const wp = createWordPressClient({
    restRoot: site.restUrl,
    credentials: { username: site.username, applicationPassword: site.applicationPassword },
  });
  let t: TestApp;
  let owner: SignedUp;
  let target: { site_id: number; sector_id: number };
  const madePosts = new Set<number>();
  const madeMedia = new Set<number>();
  const madeTerms: { taxonomy: string; id: number }[] = [];

  beforeAll(async () => {
    t = await buildTestApp({ WORKER: 'false' });
    owner = await signUp(t);
    const made = await createSite(t, owner);
    target = { site_id: made.id, sector_id: (await createSector(t, owner, made.id)).id };
    await connectWordPress(
      t,
      { accountId: owner.accountId, siteId: made.id },
      { baseUrl: site.baseUrl, restRoot: site.restUrl, username: site.username, password: site.applicationPassword },
    );
  });
  afterAll(async () => {
    // Only what this run made: its posts, media and terms (names with this run's suffix).
    for (const id of madePosts) await wp.request('DELETE', `wp/v2/posts/${id}`, { query: { force: true } }).catch(() => {});
    for (const id of madeMedia) await wp.request('DELETE', `wp/v2/media/${id}`, { query: { force: true } }).catch(() => {});
    for (const taxonomy of ['categories', 'tags']) {
      const found = await wp.request<{ id: number; name: string }[]>('GET', `wp/v2/${taxonomy}`, {
        query: { search: RUN, per_page: 100 },
      });
      for (const term of found.data) madeTerms.push({ taxonomy, id: term.id });
    }
    for (const term of madeTerms) {
      await wp.request('DELETE', `wp/v2/${term.taxonomy}/${term.id}`, { query: { force: true } }).catch(() => {});
    }
    await t?.close();
  });

  const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
    t.request({ method, url, headers: owner.headers, ...(payload ? { payload } : {}) });

  /** Runs a queued publish task's handler here, as the worker would (the task running first, as it marks it). */
  async function runTask(taskId: number, recordIds: number[]) {
    await startTask(t.database.db, owner.accountId, taskId);
    return t.app.services.jobs.runHandler(
      'publisher.publish',
      { account_id: owner.accountId, actor_id: owner.userId, record_ids: recordIds },
      { jobId: `publish-${taskId}`, accountId: owner.accountId, taskId },
    );
  }

  async function publish(contentId: number, body: object = {}) {
    const res = await api('POST', PUBLISH, { content_ids: [contentId], ...body });
    expect(res.statusCode, res.body).toBe(202);
    const { task_id, record_ids } = res.json().data as { task_id: number; record_ids: number[] };
    await runTask(task_id, record_ids);
    const record = (await api('GET', `${RECORDS}/${record_ids[0]}/`)).json().data;
    if (record.external_id) madePosts.add(Number(record.external_id));
    for (const media of Object.values(record.remote_media) as { id: number }[]) madeMedia.add(media.id);
    return record;
  }

  const remotePost = async (id: string) =>
    (await wp.request<PostRead>('GET', `wp/v2/posts/${id}`, { query: { context: 'edit' } })).data;
  const termNames = async (taxonomy: string, ids: number[]) =>
    Promise.all(ids.map(async (id) => (await wp.request<{ name: string }>('GET', `wp/v2/${taxonomy}/${id}`)).data.name));
  const mediaOfSlug = async (slug: string) =>
    (await wp.request<{ id: number; slug: string }[]>('GET', 'wp/v2/media', { query: { search: slug, per_page: 100 } })).data;

  it('publishes an approved article with its images and terms, updates the same post, and trashes it', async () => {
    // A category that exists already, named with an ampersand (WordPress answers it as `&amp;`): reused.
    const existing = await wp.request<{ id: number }>('POST', 'wp/v2/categories', { json: { name: `Gear & Tools ${RUN}` } });
    madeTerms.push({ taxonomy: 'categories', id: existing.data.id });
    const made = await approvedArticle(
      t,
      owner,
      target,
      {
        title: `Trail shoes ${RUN}`,
        html: '<h2>Grip</h2><p>Lugs bite into <strong>mud</strong>.</p>',
        meta_description: 'How trail shoes grip.',
        categories: [`Gear & Tools ${RUN}`, `Reviews ${RUN}`],
        tags: [`mud ${RUN}`, `grip ${RUN}`],
      },
      { featured: { alt: 'A trail shoe in mud', caption: 'Muddy' }, inArticle: [{ alt: 'The lugs up close' }] },
    );
    const record = await publish(made.id);
    expect(record).toMatchObject({ status: 'published', error: null, attempts: 1, remote_status: 'publish' });
    const post = await remotePost(record.external_id);
    expect(post).toMatchObject({ status: 'publish', slug: made.slug, title: { raw: `Trail shoes ${RUN}` } });
    expect(record.external_url).toBe(post.link);
    const inArticle = record.remote_media[String(made.inArticleImageIds[0])];
    expect(post.content.raw).toBe(made.html.replace(made.imageUrls[0] as string, inArticle.url));
    expect(post.excerpt.raw).toBe('How trail shoes grip.');
    expect((await termNames('categories', post.categories)).sort()).toEqual([`Gear &amp; Tools ${RUN}`, `Reviews ${RUN}`]);
    expect(post.categories).toContain(existing.data.id);
    expect((await termNames('tags', post.tags)).sort()).toEqual([`grip ${RUN}`, `mud ${RUN}`]);
    const featured = record.remote_media[String(made.featuredImageId)];
    expect(post.featured_media).toBe(featured.id);
    const media = (await wp.request<MediaRead>('GET', `wp/v2/media/${featured.id}`, { query: { context: 'edit' } })).data;
    expect(media).toMatchObject({ alt_text: 'A trail shoe in mud', caption: { raw: 'Muddy' }, media_type: 'image' });
    // The article reads published, with the post's id and link, and content.published was recorded.
    const content = (await api('GET', `/api/v1/writer/content/${made.id}/`)).json().data;
    expect(content).toMatchObject({ status: 'published', external_id: record.external_id, external_url: post.link });
    const events = (await api('GET', `/api/v1/events/?object_type=content&object_id=${made.id}&type=content.published`)).json()
      .data.results;
    expect(events[0]).toMatchObject({
      source_agent: 'worker',
      payload: { record_id: record.id, external_id: record.external_id, remote_status: 'publish' },
    });

    // Edited and published again: the same post, updated; no new media.
    const edited = await api('PATCH', `/api/v1/writer/content/${made.id}/`, {
      html: `${made.html}<p>Updated ${RUN}.</p>`,
      title: `Trail shoes, revised ${RUN}`,
    });
    expect(edited.statusCode, edited.body).toBe(200);
    const realt = await api('PATCH', `/api/v1/writer/images/${made.featuredImageId}/`, { alt_text: 'A trail shoe, muddy' });
    expect(realt.statusCode, realt.body).toBe(200);
    const again = await publish(made.id);
    expect(again).toMatchObject({ id: record.id, status: 'published', external_id: record.external_id, attempts: 2 });
    expect(again.remote_media).toEqual(record.remote_media);
    const updated = await remotePost(record.external_id);
    expect(updated.title.raw).toBe(`Trail shoes, revised ${RUN}`);
    expect(updated.content.raw).toContain(`<p>Updated ${RUN}.</p>`);
    expect(updated.content.raw).toContain(inArticle.url);
    expect(await mediaOfSlug(made.slug)).toHaveLength(2);
    // The same media item, its alt text following the image's.
    const media2 = await wp.request<MediaRead>('GET', `wp/v2/media/${featured.id}`, { query: { context: 'edit' } });
    expect(media2.data.alt_text).toBe('A trail shoe, muddy');
    const posts = await wp.request<unknown[]>('GET', 'wp/v2/posts', { query: { search: RUN, status: 'publish,draft' } });
    expect(posts.data).toHaveLength(1);

    // Unpublished: the post is in WordPress's trash; the record and the article say so.
    const res = await api('POST', `${RECORDS}/${record.id}/unpublish/`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data.status).toBe('unpublished');
    expect((await remotePost(record.external_id)).status).toBe('trash');
    expect((await api('GET', `/api/v1/writer/content/${made.id}/`)).json().data).toMatchObject({
      status: 'approved',
      external_url: null,
    });
  });

  it('approves with publish: true and publishes through the same task', async () => {
    const created = await api('POST', '/api/v1/writer/content/', {
      ...target,
      title: `Approved and published ${RUN}`,
      html: '<p>Straight out.</p>',
    });
    const id = created.json().data.id;
    await api('POST', `/api/v1/writer/content/${id}/submit_for_review/`);
    const res = await api('POST', `/api/v1/writer/approvals/${id}/approve/`, { publish: true, note: 'Ship it.' });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.headers.location).toMatch(/\/api\/v1\/system\/tasks\/\d+\/$/);
    const data = res.json().data;
    expect(data).toMatchObject({ status: 'queued', content: { id, status: 'approved', review_note: 'Ship it.' } });
    await runTask(data.task_id, data.record_ids);
    const record = (await api('GET', `${RECORDS}/${data.record_ids[0]}/`)).json().data;
    madePosts.add(Number(record.external_id));
    expect(record.status).toBe('published');
    expect((await remotePost(record.external_id)).title.raw).toBe(`Approved and published ${RUN}`);
  });

  it('schedules a post with status future, through the plain `?rest_route=/` root', async () => {
    const plain = await createSite(t, owner);
    const sector = await createSector(t, owner, plain.id);
    await connectWordPress(
      t,
      { accountId: owner.accountId, siteId: plain.id },
      {
        baseUrl: site.baseUrl,
        restRoot: `${site.baseUrl}/?rest_route=/`,
        username: site.username,
        password: site.applicationPassword,
      },
    );
    const made = await approvedArticle(
      t,
      owner,
      { site_id: plain.id, sector_id: sector.id },
      { title: `Scheduled ${RUN}`, html: '<p>Later.</p>' },
      { featured: { alt: 'Later, in the hills' } },
    );
    const when = new Date(Date.now() + 86_400_000);
    when.setUTCMilliseconds(0);
    const record = await publish(made.id, { status: 'future', date: when.toISOString() });
    expect(record).toMatchObject({ status: 'published', remote_status: 'future', scheduled_for: when.toISOString() });
    const post = await wp.request<{ status: string; date_gmt: string; featured_media: number }>(
      'GET',
      `wp/v2/posts/${record.external_id}`,
      {
        query: { context: 'edit' },
      },
    );
    expect(post.data).toMatchObject({ status: 'future', date_gmt: when.toISOString().slice(0, 19) });
    const media = await wp.request<{ alt_text: string }>('GET', `wp/v2/media/${post.data.featured_media}`);
    expect(media.data.alt_text).toBe('Later, in the hills');
  });

  it('fails the record with a clear error when the application password is wrong', async () => {
    const other = await createSite(t, owner);
    const sector = await createSector(t, owner, other.id);
    await connectWordPress(
      t,
      { accountId: owner.accountId, siteId: other.id },
      { baseUrl: site.baseUrl, restRoot: site.restUrl, username: site.username, password: 'abcd efgh ijkl mnop qrst uvwx' },
    );
    const made = await approvedArticle(
      t,
      owner,
      { site_id: other.id, sector_id: sector.id },
      {
        title: `Wrong password ${RUN}`,
        html: '<p>x</p>',
      },
    );
    const res = await api('POST', PUBLISH, { content_ids: [made.id] });
    const { task_id, record_ids } = res.json().data;
    await expect(runTask(task_id, record_ids)).rejects.toThrow(/credentials/);
    const record = (await api('GET', `${RECORDS}/${record_ids[0]}/`)).json().data;
    expect(record.status).toBe('failed');
    expect(record.error).toMatch(
      /^WordPress did not accept the integration's credentials: WordPress answered 401 rest_not_logged_in: You are not currently logged in\..*application password/,
    );
    expect(record.external_id).toBeNull();
  });

  it('leaves one post and one media item per image when its job runs twice, or dies before its last commit', async () => {
    const made = await approvedArticle(
      t,
      owner,
      target,
      { title: `Twice ${RUN}`, html: '<h2>One</h2><p>Once.</p>' },
      { featured: { alt: 'Once' } },
    );
    const res = await api('POST', PUBLISH, { content_ids: [made.id] });
    const { task_id, record_ids } = res.json().data;
    await runTask(task_id, record_ids);
    await runTask(task_id, record_ids);
    // As if the first run had died after WordPress saved everything but before the record was marked published.
    await t.database.db.execute(sql`update publisher_records set status = 'publishing' where id = ${record_ids[0]}`);
    await runTask(task_id, record_ids);
    const [record] = await rowsOf<{ status: string; external_id: string; attempts: number; remote_media: object }>(
      t,
      sql`select status, external_id, attempts, remote_media from publisher_records where id = ${record_ids[0]}`,
    );
    madePosts.add(Number(record?.external_id));
    for (const media of Object.values(record?.remote_media ?? {}) as { id: number }[]) madeMedia.add(media.id);
    expect(record).toMatchObject({ status: 'published', attempts: 2 });
    const posts = await wp.request<unknown[]>('GET', 'wp/v2/posts', {
      query: { search: `Twice ${RUN}`, status: 'publish,draft' },
    });
    expect(posts.data).toHaveLength(1);
    expect(await mediaOfSlug(made.slug)).toHaveLength(1);
  });
});
