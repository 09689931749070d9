import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSector, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { dropOnce, type FakePost, type FakeWordPress, startFakeWordPress } from '../../../test/fake-wordpress.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { finishedTask } from '../../../test/wait.js';
import { wordpressPeer } from '../../../test/wordpress-peer.js';
import { createWordPressClient } from './integration.wordpress.js';

/**
 * `sync/`: a site's categories, tags, posts and pages become imported content (through the writer), paged
 * through X-WP-TotalPages, and a second sync updates the same articles. Against the real WordPress (posts
 * this file creates and removes) and a small server holding more posts than one REST page.
 */

const peer = await wordpressPeer('integration.sync');
const PATH = '/api/v1/integration/integrations';
const PASSWORD = 'sync sync sync sync sync sync';

let t: TestApp;

interface Fixture {
  owner: SignedUp;
  siteId: number;
  sectorId: number;
  integrationId: number;
}

async function fixture(baseUrl: string, username: string, password: string): Promise<Fixture> {
  const owner = await signUp(t);
  const siteId = (await createSite(t, owner)).id;
  const sectorId = (await createSector(t, owner, siteId)).id;
  const res = await t.request({
    method: 'POST',
    url: `${PATH}/`,
    headers: owner.headers,
    payload: { site_id: siteId, platform: 'wordpress', base_url: baseUrl, username, credentials: password },
  });
  expect(res.statusCode, res.body).toBe(201);
  return { owner, siteId, sectorId, integrationId: res.json().data.id };
}

async function get(who: SignedUp, url: string) {
  const res = await t.request({ method: 'GET', url, headers: who.headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data;
}

/** Starts a sync and waits for its task to end; returns the finished task. */
async function sync(f: Fixture) {
  const res = await t.request({
    method: 'POST',
    url: `${PATH}/${f.integrationId}/sync/`,
    headers: f.owner.headers,
    payload: { sector_id: f.sectorId },
  });
  expect(res.statusCode, res.body).toBe(202);
  expect(res.headers.location).toMatch(new RegExp(`/api/v1/system/tasks/${res.json().data.task_id}/$`));
  return finishedTask(t, f.owner.headers, res.json().data.task_id, 80_000);
}

async function imported(f: Fixture) {
  const rows: { id: number; external_id: string; slug: string; title: string; version: number }[] = [];
  for (let page = 1; ; page++) {
    const data = await get(f.owner, `/api/v1/writer/content/?site_id=${f.siteId}&source=imported&page_size=200&page=${page}`);
    rows.push(...data.results);
    if (!data.next) return rows;
  }
}

beforeAll(async () => {
  t = await buildTestApp({ WORKER: 'true', JOBS_POLL_MS: '50' });
});
afterAll(async () => {
  await t?.close();
});

describe('a site with more posts than one page', () => {
  let wp: FakeWordPress;
  let f: Fixture;
  const posts: FakePost[] = Array.from({ length: 150 }, (_, i) => ({
    id: 1000 + i,
    title: `Post & number ${i}`,
    slug: i === 0 ? 'hello-world' : `post-${i}`,
    content: `<p>Words of post ${i} here.</p>${i === 1 ? '<script>alert(1)</script>' : ''}`,
    categories: i % 2 === 0 ? [2, 3] : [],
    tags: i === 0 ? [9, 99] : [],
  }));
  beforeAll(async () => {
    wp = await startFakeWordPress({
      username: 'editor',
      password: PASSWORD,
      posts,
      pages: [{ id: 5, title: 'About us', slug: 'about', content: '<p>Who we are.</p>' }],
      categories: [
        { id: 2, name: 'Trail &amp; Road' },
        { id: 3, name: 'News' },
      ],
      tags: [{ id: 9, name: 'shoes' }],
    });
    f = await fixture(wp.baseUrl, 'editor', PASSWORD);
  });
  afterAll(() => wp?.close());

  it('imports every page of posts and pages, reading a dropped page again; a slug a local article holds does not fail it', async () => {
    const local = await t.request({
      method: 'POST',
      url: '/api/v1/writer/content/',
      headers: f.owner.headers,
      payload: { site_id: f.siteId, sector_id: f.sectorId, title: 'Hello world', slug: 'hello-world' },
    });
    expect(local.statusCode, local.body).toBe(201);
    wp.fault = dropOnce('posts?per_page=100&status=publish&context=edit&page=2');
    const task = await sync(f);
    expect(task.status, JSON.stringify(task.error)).toBe('succeeded');
    expect(task.result, JSON.stringify(wp.requests)).toEqual({
      categories: 2,
      tags: 1,
      posts: { created: 150, updated: 0, unchanged: 0, skipped: 0 },
      pages: { created: 1, updated: 0, unchanged: 0, skipped: 0 },
    });
    expect(wp.requests.filter((r) => r.startsWith('GET /wp-json/wp/v2/posts'))).toEqual([
      'GET /wp-json/wp/v2/posts?per_page=100&status=publish&context=edit&page=1',
      'GET /wp-json/wp/v2/posts?per_page=100&status=publish&context=edit&page=2',
      'GET /wp-json/wp/v2/posts?per_page=100&status=publish&context=edit&page=2',
    ]);
    const rows = await imported(f);
    expect(rows).toHaveLength(151);
    const first = rows.find((r) => r.external_id === '1000');
    expect(first?.slug).toBe('hello-world-2');
    const detail = await get(f.owner, `/api/v1/writer/content/${first?.id}/`);
    expect(detail).toMatchObject({
      source: 'imported',
      status: 'published',
      title: 'Post & number 0',
      external_id: '1000',
      external_url: `${wp.baseUrl}/hello-world/`,
      categories: ['Trail & Road', 'News'],
      tags: ['shoes'],
      sector_id: f.sectorId,
      word_count: 5,
    });
    const scripted = await get(f.owner, `/api/v1/writer/content/${rows.find((r) => r.external_id === '1001')?.id}/`);
    expect(scripted.html).toBe('<p>Words of post 1 here.</p>');
    const events = await get(f.owner, `/api/v1/events/?type=integration.synced&object_id=${f.integrationId}`);
    expect(events.results[0]).toMatchObject({ source_agent: 'worker', payload: { posts: { created: 150 } } });
    const integration = await get(f.owner, `${PATH}/${f.integrationId}/`);
    expect(integration.last_synced_at).not.toBeNull();
  }, 90_000);

  it('updates the same articles on a second sync instead of duplicating them', async () => {
    const before = await imported(f);
    // Edited on the site since the first sync.
    const changed = wp.posts.get((posts[3] as FakePost).id);
    if (!changed) throw new Error('the fake has no post 1003');
    changed.title = 'A new title';
    changed.content = '<p>Rewritten on the site.</p>';
    const task = await sync(f);
    expect(task.result.posts).toEqual({ created: 0, updated: 1, unchanged: 149, skipped: 0 });
    expect(task.result.pages).toEqual({ created: 0, updated: 0, unchanged: 1, skipped: 0 });
    const after = await imported(f);
    expect(after.map((r) => r.id).sort()).toEqual(before.map((r) => r.id).sort());
    const row = after.find((r) => r.external_id === String(changed.id));
    expect(row).toMatchObject({ title: 'A new title', version: 2 });
    // The slug made unique on the first sync is kept, not re-suffixed.
    expect(after.find((r) => r.external_id === '1000')).toMatchObject({ slug: 'hello-world-2', version: 1 });
  }, 90_000);

  it('fails the task with WordPress’s refusal when the password stops working', async () => {
    wp.options = { ...wp.options, password: 'another one entirely' };
    const task = await sync(f);
    wp.options = { ...wp.options, password: PASSWORD };
    expect(task.status).toBe('failed');
    expect(task.error.code).toBe('authentication_failed');
    expect(task.error.message).toMatch(/rest_forbidden_context/);
  });

  it('refuses a sector of another site, a missing one, and a webhook integration', async () => {
    const otherSite = (await createSite(t, f.owner)).id;
    const otherSector = (await createSector(t, f.owner, otherSite)).id;
    const wrong = await t.request({
      method: 'POST',
      url: `${PATH}/${f.integrationId}/sync/`,
      headers: f.owner.headers,
      payload: { sector_id: otherSector },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors.sector_id).toEqual(['This sector belongs to another site.']);
    const missing = await t.request({ method: 'POST', url: `${PATH}/${f.integrationId}/sync/`, headers: f.owner.headers });
    expect(missing.json().errors.sector_id).toEqual(['This field is required.']);
    const hook = await t.request({
      method: 'POST',
      url: `${PATH}/`,
      headers: f.owner.headers,
      payload: { site_id: f.siteId, platform: 'webhook', base_url: 'https://hooks.example.com' },
    });
    const refused = await t.request({
      method: 'POST',
      url: `${PATH}/${hook.json().data.id}/sync/`,
      headers: f.owner.headers,
      payload: { sector_id: f.sectorId },
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('conflict');
  });
});

describe.skipIf(!peer)('against the WordPress peer', () => {
  const { baseUrl, restUrl, username, applicationPassword } = peer ?? {
    baseUrl: '',
    restUrl: '',
    username: '',
    applicationPassword: '',
  };
  const client = createWordPressClient({ restRoot: restUrl, credentials: { username, applicationPassword } });
  const suffix = randomBytes(4).toString('hex');
  const made = { posts: [] as number[], categories: [] as number[], tags: [] as number[] };

  afterAll(async () => {
    for (const id of made.posts) await client.request('DELETE', `wp/v2/posts/${id}`, { query: { force: true } }).catch(() => {});
    for (const id of made.categories)
      await client.request('DELETE', `wp/v2/categories/${id}`, { query: { force: true } }).catch(() => {});
    for (const id of made.tags) await client.request('DELETE', `wp/v2/tags/${id}`, { query: { force: true } }).catch(() => {});
  });

  it('imports the posts it finds there, and a second sync updates them in place', async () => {
    const category = (await client.request<{ id: number }>('POST', 'wp/v2/categories', { json: { name: `Sync cat ${suffix}` } }))
      .data;
    made.categories.push(category.id);
    const tag = (await client.request<{ id: number }>('POST', 'wp/v2/tags', { json: { name: `sync-tag-${suffix}` } })).data;
    made.tags.push(tag.id);
    for (const n of [1, 2]) {
      const post = await client.request<{ id: number }>('POST', 'wp/v2/posts', {
        json: {
          title: `Synced ${n} ${suffix}`,
          content: `<p>Imported text number ${n} for the linker.</p>`,
          status: 'publish',
          slug: `synced-${n}-${suffix}`,
          categories: [category.id],
          tags: [tag.id],
        },
      });
      made.posts.push(post.data.id);
    }
    const f = await fixture(baseUrl, username, applicationPassword);
    const first = await sync(f);
    expect(first.status, JSON.stringify(first.error)).toBe('succeeded');
    const rows = await imported(f);
    const mine = rows.filter((r) => made.posts.map(String).includes(r.external_id));
    expect(mine).toHaveLength(2);
    const detail = await get(f.owner, `/api/v1/writer/content/${mine.find((r) => r.external_id === String(made.posts[0]))?.id}/`);
    expect(detail).toMatchObject({
      title: `Synced 1 ${suffix}`,
      slug: `synced-1-${suffix}`,
      html: '<p>Imported text number 1 for the linker.</p>',
      external_url: `${baseUrl}/synced-1-${suffix}/`,
      categories: [`Sync cat ${suffix}`],
      tags: [`sync-tag-${suffix}`],
      source: 'imported',
      status: 'published',
      word_count: 7,
    });

    await client.request('POST', `wp/v2/posts/${made.posts[0]}`, { json: { title: `Edited ${suffix}` } });
    const second = await sync(f);
    expect(second.status).toBe('succeeded');
    expect(second.result.posts.created).toBe(0);
    expect(second.result.posts.updated).toBeGreaterThanOrEqual(1);
    // Other suites share the peer and add posts meanwhile: only this file's posts are compared.
    const again = (await imported(f)).filter((r) => made.posts.map(String).includes(r.external_id));
    expect(again.map((r) => r.id).sort()).toEqual(mine.map((r) => r.id).sort());
    expect(again.find((r) => r.external_id === String(made.posts[0]))).toMatchObject({
      id: detail.id,
      title: `Edited ${suffix}`,
    });
  }, 90_000);
});
