import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSector, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { connectWordPress, type FakeWordPress, fakeSite, startFakeWordPress } from '../../../test/fake-wordpress.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { approvedArticle } from '../../../test/publishing.js';
import { expectSecured } from '../../../test/security.js';
import { finishedTask, until } from '../../../test/wait.js';

/**
 * The publisher against a small WordPress of our own (test/fake-wordpress.ts), for what the real one cannot be
 * made to do: a 503, a request that never answers, a connection dropped before or after WordPress acted, a
 * featured image silently ignored. Also the action's rules (field errors, 409s) and the shared security checks.
 * Retries run through the real queue, made quick for this file (no delay between attempts, WordPress timeout 0.5 s).
 */

const PUBLISH = '/api/v1/publisher/publish/';
const RECORDS = '/api/v1/publisher/publishing-records';
let t: TestApp;
let fake: FakeWordPress;
let owner: SignedUp;
let target: { site_id: number; sector_id: number };
let counter = 0;

beforeAll(async () => {
  fake = await startFakeWordPress();
  t = await buildTestApp(
    { WORKER: 'true', JOBS_POLL_MS: '50', WORDPRESS_TIMEOUT_SECONDS: '0.5' },
    { jobLimits: { 'publisher.publish': { retryLimit: 2, retryDelaySeconds: 0, retryBackoff: false } } },
  );
  owner = await signUp(t);
  const site = await createSite(t, owner);
  target = { site_id: site.id, sector_id: (await createSector(t, owner, site.id)).id };
  await connectWordPress(t, { accountId: owner.accountId, siteId: site.id }, fakeSite(fake));
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});
beforeEach(() => {
  fake.fault = null;
  fake.ignoreFeaturedMedia = false;
});

const api = (method: 'GET' | 'POST', url: string, payload?: object, who: SignedUp = owner) =>
  t.request({ method, url, headers: who.headers, ...(payload ? { payload } : {}) });

const article = (images = true) =>
  approvedArticle(
    t,
    owner,
    target,
    { title: `Fault ${++counter}`, html: '<h2>Grip</h2><p>Mud.</p>', categories: ['Gear & Tools'], tags: ['mud'] },
    images ? { featured: { alt: 'A muddy shoe' }, inArticle: [{ alt: 'Treads' }] } : {},
  );

async function publish(contentId: number, body: object = {}) {
  const res = await api('POST', PUBLISH, { content_ids: [contentId], ...body });
  expect(res.statusCode, res.body).toBe(202);
  return res.json().data as { task_id: number; record_ids: number[] };
}

async function settled(recordId: number) {
  const res = await until(
    `record ${recordId} to settle`,
    () => api('GET', `${RECORDS}/${recordId}/`),
    (r) => ['published', 'failed'].includes(r.json().data.status),
  );
  return res.json().data;
}

const postsOf = (contentSlug: string) => [...fake.posts.values()].filter((p) => p.slug === contentSlug);
const mediaCount = () => fake.media.size;

describe('faults WordPress cannot be made to show', () => {
  it('retries a 503 and then publishes once', async () => {
    const made = await article();
    let refused = 0;
    fake.fault = ({ method, route }) =>
      method === 'POST' && route === 'wp/v2/posts' && refused++ === 0 ? { status: 503 } : null;
    const mediaBefore = mediaCount();
    const { record_ids } = await publish(made.id);
    const record = await settled(record_ids[0] as number);
    expect(record).toMatchObject({ status: 'published', attempts: 2, error: null });
    expect(postsOf(made.slug)).toHaveLength(1);
    expect(mediaCount() - mediaBefore).toBe(2);
    expect(Object.keys(record.remote_media).sort()).toEqual([made.featuredImageId, ...made.inArticleImageIds].map(String).sort());
  });

  it('fails a record whose WordPress never answers, after the retries, saying so', async () => {
    const made = await article(false);
    fake.fault = ({ route }) => (route === 'wp/v2/users/me' ? 'hang' : null);
    const { record_ids, task_id } = await publish(made.id);
    const record = await settled(record_ids[0] as number);
    expect(record.status).toBe('failed');
    expect(record.attempts).toBe(3);
    expect(record.error).toMatch(/no answer within 0.5 s/);
    // The record is written by the job; its task is settled just after, in a transaction of its own.
    const task = await finishedTask(t, owner.headers, task_id);
    expect(task).toMatchObject({ status: 'failed', error: { code: 'service_unavailable' } });
    expect((await api('GET', `/api/v1/writer/content/${made.id}/`)).json().data.status).toBe('approved');
  });

  it('finds the post and media an attempt made before its connection dropped, and makes them once', async () => {
    const made = await article();
    const dropped = new Set<string>();
    // WordPress acts, then the answer is lost: the rerun must find what it made, not make it again.
    fake.fault = ({ method, route }) => {
      const key = `${method} ${route}`;
      if (method === 'POST' && (route === 'wp/v2/posts' || route === 'wp/v2/media') && !dropped.has(key)) {
        dropped.add(key);
        return 'drop-after';
      }
      return null;
    };
    const mediaBefore = mediaCount();
    const postsBefore = fake.posts.size;
    const { record_ids } = await publish(made.id);
    const record = await settled(record_ids[0] as number);
    expect(record).toMatchObject({ status: 'published', error: null });
    expect(record.attempts).toBe(3);
    expect(fake.posts.size - postsBefore).toBe(1);
    expect(mediaCount() - mediaBefore).toBe(2);
    expect(fake.posts.get(Number(record.external_id))).toMatchObject({ slug: made.slug, status: 'publish' });
  });

  it('fails clearly when WordPress drops the featured image without a word', async () => {
    const made = await article();
    fake.ignoreFeaturedMedia = true;
    const { record_ids } = await publish(made.id);
    const record = await settled(record_ids[0] as number);
    expect(record.status).toBe('failed');
    expect(record.attempts).toBe(1);
    expect(record.error).toMatch(/did not keep media \d+ as the featured image of post \d+ \(it answered featured_media 0\)/);
    const content = (await api('GET', `/api/v1/writer/content/${made.id}/`)).json().data;
    expect(content.status).toBe('approved');
    // Once WordPress keeps it, a retry publishes the same post with the media already uploaded.
    fake.ignoreFeaturedMedia = false;
    const media = mediaCount();
    const retried = await api('POST', `${RECORDS}/${record.id}/retry/`);
    expect(retried.statusCode, retried.body).toBe(202);
    const again = await settled(record.id);
    expect(again).toMatchObject({ status: 'published', external_id: record.external_id });
    expect(mediaCount()).toBe(media);
  });

  it('rewrites in-article images to the uploaded media and sends the terms by id', async () => {
    const made = await article();
    const { record_ids } = await publish(made.id);
    const record = await settled(record_ids[0] as number);
    const post = fake.posts.get(Number(record.external_id));
    const inArticle = record.remote_media[String(made.inArticleImageIds[0])];
    expect(post?.content).toContain(`src="${inArticle.url}"`);
    expect(post?.content).not.toContain(made.imageUrls[0]);
    expect(post?.featured_media).toBe(record.remote_media[String(made.featuredImageId)].id);
    const category = [...fake.terms.categories].find(([, name]) => name === 'Gear &amp; Tools');
    expect(post?.categories).toEqual([category?.[0]]);
  });
});

describe('unpublish', () => {
  it('trashes the remote post; WordPress unreachable is a 503 and nothing changes', async () => {
    const made = await article(false);
    const { record_ids } = await publish(made.id);
    const record = await settled(record_ids[0] as number);
    fake.fault = ({ method }) => (method === 'DELETE' ? { status: 503 } : null);
    const refused = await api('POST', `${RECORDS}/${record.id}/unpublish/`);
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ code: 'service_unavailable', details: { wordpress_status: 503 } });
    expect((await api('GET', `${RECORDS}/${record.id}/`)).json().data.status).toBe('published');
    fake.fault = null;
    const res = await api('POST', `${RECORDS}/${record.id}/unpublish/`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({ status: 'unpublished', external_id: record.external_id });
    expect(fake.posts.get(Number(record.external_id))?.status).toBe('trash');
    const content = (await api('GET', `/api/v1/writer/content/${made.id}/`)).json().data;
    expect(content).toMatchObject({ status: 'approved', external_id: record.external_id, external_url: null });
    const again = await api('POST', `${RECORDS}/${record.id}/unpublish/`);
    expect(again.statusCode).toBe(409);
    expect(again.json().details).toEqual({ current_status: 'unpublished' });
  });
});

describe('the publish action', () => {
  it('refuses what it cannot publish, naming each article, and queues nothing', async () => {
    const ok = await article(false);
    const draft = await api('POST', '/api/v1/writer/content/', { ...target, title: `Draft ${++counter}` });
    const stranger = await signUp(t);
    const res = await api('POST', PUBLISH, { content_ids: [ok.id, draft.json().data.id, 999999] });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual({
      'content_ids.1': [
        `Content ${draft.json().data.id} is "draft": only approved content (or published, to update its post) is published.`,
      ],
      'content_ids.2': ['Content 999999 not found.'],
      non_field_errors: [],
    });
    const theirs = await api('POST', PUBLISH, { content_ids: [ok.id] }, stranger);
    expect(theirs.json().errors).toMatchObject({ 'content_ids.0': [`Content ${ok.id} not found.`] });
    expect((await api('GET', `${RECORDS}/?content_id=${ok.id}`)).json().data.count).toBe(0);
    const noDate = await api('POST', PUBLISH, { content_ids: [ok.id], status: 'future' });
    expect(noDate.json().errors).toMatchObject({ date: ['Required with status "future": when to publish.'] });
    const past = await api('POST', PUBLISH, { content_ids: [ok.id], status: 'future', date: '2020-01-01T00:00:00Z' });
    expect(past.json().errors).toMatchObject({ date: ['Must be in the future.'] });
    const stray = await api('POST', PUBLISH, { content_ids: [ok.id], date: '2099-01-01T00:00:00Z' });
    expect(stray.json().errors).toMatchObject({ date: ['Only with status "future".'] });
    expect((await api('POST', PUBLISH, { content_ids: [] })).statusCode).toBe(400);
  });

  it('reuses the record on a second publish, answers 409 while one is in flight, and lists and filters records', async () => {
    const made = await article(false);
    fake.fault = ({ route }) => (route === 'wp/v2/users/me' ? 'hang' : null);
    const first = await publish(made.id);
    const busy = await api('POST', PUBLISH, { content_ids: [made.id] });
    expect(busy.statusCode).toBe(409);
    expect(busy.json().details).toMatchObject({ content_ids: [made.id], record_ids: first.record_ids });
    await settled(first.record_ids[0] as number);
    fake.fault = null;
    const second = await publish(made.id, { status: 'draft' });
    expect(second.record_ids).toEqual(first.record_ids);
    const record = await settled(second.record_ids[0] as number);
    expect(record).toMatchObject({ status: 'published', remote_status: 'draft', error: null });
    expect(fake.posts.get(Number(record.external_id))?.status).toBe('draft');
    // A draft on WordPress is not live: the article stays approved, with the post's id and link.
    const content = (await api('GET', `/api/v1/writer/content/${made.id}/`)).json().data;
    expect(content).toMatchObject({ status: 'approved', external_id: record.external_id, external_url: record.external_url });
    const list = await api('GET', `${RECORDS}/?content_id=${made.id}&status=published&site_id=${target.site_id}`);
    expect(list.json().data.results.map((r: { id: number }) => r.id)).toEqual(first.record_ids);
    expect((await api('GET', `${RECORDS}/?status=bogus`)).statusCode).toBe(400);
    const retry = await api('POST', `${RECORDS}/${record.id}/retry/`);
    expect(retry.statusCode).toBe(409);
  });

  it('is secured like every route', async () => {
    const made = await article(false);
    await expectSecured(t, { method: 'GET', url: `${RECORDS}/`, owner });
    const { record_ids } = await publish(made.id);
    await settled(record_ids[0] as number);
    await expectSecured(t, { method: 'GET', url: `${RECORDS}/${record_ids[0]}/`, owner, objectScoped: true });
    await expectSecured(t, { method: 'POST', url: `${RECORDS}/${record_ids[0]}/retry/`, owner, objectScoped: true });
    await expectSecured(t, { method: 'POST', url: `${RECORDS}/${record_ids[0]}/unpublish/`, owner, objectScoped: true });
    await expectSecured(t, { method: 'POST', url: PUBLISH, payload: { content_ids: [made.id] }, owner });
  });
});
