import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createApiKey, createSector, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { expectSecured } from '../../../test/security.js';
import * as repo from './writer.repository.js';

const TASKS = '/api/v1/writer/tasks';
let t: TestApp;
let owner: SignedUp;
let stranger: SignedUp;
let siteId: number;
let sectorId: number;
let otherSiteId: number;
let otherSectorId: number;
let clusterId: number;
let ideaId: number;

const as = (who: { headers: Record<string, string> }) => ({
  get: (url: string, headers: Record<string, string> = {}) =>
    t.request({ method: 'GET', url, headers: { ...who.headers, ...headers } }),
  post: (url: string, payload?: unknown) =>
    t.request({ method: 'POST', url, headers: who.headers, ...(payload === undefined ? {} : { payload: payload as object }) }),
  patch: (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    t.request({ method: 'PATCH', url, headers: { ...who.headers, ...headers }, payload: payload as object }),
  delete: (url: string) => t.request({ method: 'DELETE', url, headers: who.headers }),
});
const api = () => as(owner);

async function newTask(body: Record<string, unknown> = {}) {
  const res = await api().post(`${TASKS}/`, { site_id: siteId, sector_id: sectorId, title: 'A task', ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data;
}

async function eventsOf(objectId: number) {
  const res = await api().get(`/api/v1/events/?object_type=writer_task&object_id=${objectId}`);
  return (res.json().data.results as { type: string; site_id: number | null; payload: Record<string, unknown> }[]).reverse();
}

beforeAll(async () => {
  t = await buildTestApp();
  owner = await signUp(t);
  stranger = await signUp(t);
  siteId = (await createSite(t, owner)).id;
  sectorId = (await createSector(t, owner, siteId)).id;
  otherSiteId = (await createSite(t, owner)).id;
  otherSectorId = (await createSector(t, owner, otherSiteId)).id;
  clusterId = (
    await api().post('/api/v1/planner/clusters/', { site_id: siteId, sector_id: sectorId, name: 'Trail shoes' })
  ).json().data.id;
  ideaId = (
    await api().post('/api/v1/planner/content-ideas/', {
      site_id: siteId,
      sector_id: sectorId,
      title: 'Choosing trail shoes',
      cluster_id: clusterId,
    })
  ).json().data.id;
});
afterAll(async () => {
  await t?.close();
});

describe('creating tasks', () => {
  it('creates a queued task with the account default length, and records writer_task.created', async () => {
    const res = await api().post(`${TASKS}/`, { site_id: siteId, sector_id: sectorId, title: '  Trail shoes 101 ' });
    expect(res.statusCode, res.body).toBe(201);
    const task = res.json().data;
    expect(res.headers.location).toMatch(new RegExp(`${TASKS}/${task.id}/$`));
    expect(task).toEqual({
      id: expect.any(Number),
      account_id: owner.accountId,
      site_id: siteId,
      sector_id: sectorId,
      title: 'Trail shoes 101',
      description: '',
      idea_id: null,
      cluster_id: null,
      keywords: [],
      content_type: 'post',
      content_structure: 'article',
      word_count_target: 1500,
      author_profile_id: null,
      status: 'queued',
      error: null,
      content_id: null,
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      updated_at: expect.any(String),
    });
    const events = await eventsOf(task.id);
    expect(events.map((e) => [e.type, e.site_id])).toEqual([['writer_task.created', siteId]]);
    expect(events[0]?.payload).toMatchObject({ title: 'Trail shoes 101', status: 'queued' });
  });

  it("takes the account's default_word_count setting, an idea's cluster, and an author profile of the account", async () => {
    const settings = await api().patch('/api/v1/system/settings/', { default_word_count: 2200 });
    expect(settings.statusCode, settings.body).toBe(200);
    const profile = (await api().post('/api/v1/system/author-profiles/', { name: 'Ada' })).json().data;
    const task = await newTask({
      idea_id: ideaId,
      keywords: ['trail shoes'],
      content_type: 'page',
      content_structure: 'guide',
      author_profile_id: profile.id,
      description: 'How to pick',
    });
    expect(task).toMatchObject({
      word_count_target: 2200,
      idea_id: ideaId,
      cluster_id: clusterId,
      author_profile_id: profile.id,
      keywords: ['trail shoes'],
      content_type: 'page',
      content_structure: 'guide',
    });
    // An explicit cluster (or none) wins over the idea's.
    expect((await newTask({ idea_id: ideaId, cluster_id: null, word_count_target: 900 })).cluster_id).toBeNull();
    await api().patch('/api/v1/system/settings/', { default_word_count: 1500 });
  });

  it('refuses ideas, clusters and author profiles that are not the task site’s or the account’s, all at once', async () => {
    const strangerProfile = (await as(stranger).post('/api/v1/system/author-profiles/', { name: 'Eve' })).json().data;
    const res = await api().post(`${TASKS}/`, {
      site_id: otherSiteId,
      sector_id: otherSectorId,
      title: 'Elsewhere',
      idea_id: ideaId,
      cluster_id: clusterId,
      author_profile_id: strangerProfile.id,
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().errors).toEqual({
      idea_id: ["The idea belongs to another site or sector than the task's."],
      cluster_id: ["The cluster belongs to another site or sector than the task's."],
      author_profile_id: ['Unknown author profile.'],
      non_field_errors: [],
    });
    const unknown = await api().post(`${TASKS}/`, { site_id: siteId, sector_id: sectorId, title: 'x', idea_id: 999_999 });
    expect(unknown.json().errors.idea_id).toEqual(['Unknown content idea.']);
    // The schema's own checks: every field error at once, unknown keys and wrong types refused.
    const bad = await api().post(`${TASKS}/`, { site_id: siteId, title: '', word_count_target: '900', status: 'completed' });
    expect(bad.statusCode).toBe(400);
    expect(Object.keys(bad.json().errors).sort()).toEqual(
      ['non_field_errors', 'sector_id', 'status', 'title', 'word_count_target'].sort(),
    );
  });

  it('keeps the planner queueing ideas as tasks', async () => {
    const idea = (
      await api().post('/api/v1/planner/content-ideas/', {
        site_id: siteId,
        sector_id: sectorId,
        title: 'Queued idea',
        estimated_word_count: 1200,
      })
    ).json().data;
    const queued = await api().post('/api/v1/planner/content-ideas/bulk_queue_to_writer/', { ids: [idea.id] });
    expect(queued.statusCode, queued.body).toBe(200);
    const [taskId] = queued.json().data.writer_task_ids;
    const task = (await api().get(`${TASKS}/${taskId}/`)).json().data;
    expect(task).toMatchObject({ idea_id: idea.id, title: 'Queued idea', word_count_target: 1200, status: 'queued' });
  });
});

describe('listing tasks', () => {
  it('filters, searches and orders', async () => {
    const site = await createSite(t, owner);
    const sector = await createSector(t, owner, site.id);
    const make = (title: string, extra: Record<string, unknown> = {}) =>
      newTask({ site_id: site.id, sector_id: sector.id, title, ...extra });
    const a = await make('Alpha boots', { word_count_target: 800 });
    const b = await make('Beta boots', { word_count_target: 1200 });
    const c = await make('Gamma socks', { word_count_target: 1000 });
    await api().post(`${TASKS}/${b.id}/cancel/`);
    const ids = async (query: string) => {
      const res = await api().get(`${TASKS}/?site_id=${site.id}&${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json().data.results.map((r: { id: number }) => r.id);
    };
    expect(await ids('')).toEqual([c.id, b.id, a.id]);
    expect(await ids('status=cancelled')).toEqual([b.id]);
    expect(await ids('status__in=queued,cancelled&ordering=title')).toEqual([a.id, b.id, c.id]);
    expect(await ids('search=BOOTS&ordering=-word_count_target')).toEqual([b.id, a.id]);
    expect(await ids(`sector_id=${sector.id}&ordering=word_count_target`)).toEqual([a.id, c.id, b.id]);
    expect(await ids('cluster_id=null&idea_id=null&page_size=2')).toEqual([c.id, b.id]);
    expect(await ids(`cluster_id=${clusterId}`)).toEqual([]);
    const byIdea = await api().get(`${TASKS}/?idea_id=${ideaId}`);
    expect(byIdea.json().data.results.every((r: { idea_id: number }) => r.idea_id === ideaId)).toBe(true);
    expect(byIdea.json().data.count).toBeGreaterThan(0);
    for (const query of ['status=done', 'ordering=error', 'colour=red', 'status__in=queued,nope']) {
      expect((await api().get(`${TASKS}/?${query}`)).statusCode, query).toBe(400);
    }
  });

  it("shows a site-limited member only their sites' tasks", async () => {
    const mine = await newTask({ title: 'On the main site' });
    const theirs = await newTask({ site_id: otherSiteId, sector_id: otherSectorId, title: 'On the other site' });
    const limited = await addMember(t, owner, 'editor', [otherSiteId]);
    const list = (await as(limited).get(`${TASKS}/?page_size=200`)).json().data.results as { site_id: number }[];
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((r) => r.site_id === otherSiteId)).toBe(true);
    expect((await as(limited).get(`${TASKS}/${theirs.id}/`)).statusCode).toBe(200);
    expect((await as(limited).get(`${TASKS}/${mine.id}/`)).statusCode).toBe(404);
    expect((await as(limited).post(`${TASKS}/${mine.id}/cancel/`)).statusCode).toBe(404);
    const bulk = await as(limited).post(`${TASKS}/bulk_delete/`, { ids: [mine.id] });
    expect(bulk.json().data).toEqual({ deleted: 0, skipped: [mine.id] });
  });
});

describe('a task', () => {
  it('answers its detail with an ETag (304 when unchanged)', async () => {
    const task = await newTask();
    const res = await api().get(`${TASKS}/${task.id}/`);
    expect(res.json().data).toEqual(task);
    const etag = res.headers.etag as string;
    expect(etag).toMatch(/^".+"$/);
    expect((await api().get(`${TASKS}/${task.id}/`, { 'if-none-match': etag })).statusCode).toBe(304);
  });

  it('is edited while queued or failed, with If-Match, and not while being written', async () => {
    const task = await newTask();
    const etag = (await api().get(`${TASKS}/${task.id}/`)).headers.etag as string;
    const res = await api().patch(`${TASKS}/${task.id}/`, { title: 'Renamed', keywords: ['a'] }, { 'if-match': etag });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({ title: 'Renamed', keywords: ['a'] });
    expect(res.headers.etag).not.toBe(etag);
    expect(res.headers.etag).toBe((await api().get(`${TASKS}/${task.id}/`)).headers.etag);
    const stale = await api().patch(`${TASKS}/${task.id}/`, { title: 'Lost' }, { 'if-match': etag });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('precondition_failed');
    expect((await api().get(`${TASKS}/${task.id}/`)).json().data.title).toBe('Renamed');
    const events = await eventsOf(task.id);
    expect(events.map((e) => e.type)).toEqual(['writer_task.created', 'writer_task.updated']);
    expect(events[1]?.payload.fields).toEqual(['keywords', 'title']);
    // Nothing changed: no event.
    await api().patch(`${TASKS}/${task.id}/`, { title: 'Renamed' });
    expect(await eventsOf(task.id)).toHaveLength(2);

    await repo.moveTask(t.database.db, owner.accountId, task.id, ['queued'], 'in_progress');
    const busy = await api().patch(`${TASKS}/${task.id}/`, { title: 'Mid-write' });
    expect(busy.statusCode).toBe(409);
    expect(busy.json()).toMatchObject({ code: 'conflict', details: { current_status: 'in_progress' } });
    expect(busy.json().error).toContain('in_progress');
    const status = await api().patch(`${TASKS}/${task.id}/`, { status: 'queued' });
    expect(status.statusCode).toBe(400);
    expect(status.json().errors.status).toEqual(['This field is not allowed.']);
  });

  it('is cancelled from queued only, and retried from failed only', async () => {
    const task = await newTask();
    const cancelled = await api().post(`${TASKS}/${task.id}/cancel/`);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json().data).toMatchObject({ id: task.id, status: 'cancelled' });
    const again = await api().post(`${TASKS}/${task.id}/cancel/`);
    expect(again.statusCode).toBe(409);
    expect(again.json().details).toEqual({ current_status: 'cancelled' });
    expect((await api().post(`${TASKS}/${task.id}/retry/`)).json().details).toEqual({ current_status: 'cancelled' });

    const failing = await newTask();
    await repo.moveTask(t.database.db, owner.accountId, failing.id, ['queued'], 'failed', { error: 'The model timed out.' });
    const retried = await api().post(`${TASKS}/${failing.id}/retry/`);
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json().data).toMatchObject({ status: 'queued', error: null });
    expect((await eventsOf(failing.id)).map((e) => [e.type, e.payload.previous_status])).toEqual([
      ['writer_task.created', undefined],
      ['writer_task.retried', 'failed'],
    ]);
    expect((await eventsOf(task.id)).map((e) => e.type)).toContain('writer_task.cancelled');
  });

  it('is deleted unless being written; bulk delete is all or none', async () => {
    const a = await newTask();
    const b = await newTask();
    const c = await newTask();
    await repo.moveTask(t.database.db, owner.accountId, c.id, ['queued'], 'in_progress');
    expect((await api().delete(`${TASKS}/${c.id}/`)).statusCode).toBe(409);
    const refused = await api().post(`${TASKS}/bulk_delete/`, { ids: [a.id, c.id] });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().details).toEqual({ ids: [c.id], current_status: 'in_progress' });
    expect((await api().get(`${TASKS}/${a.id}/`)).statusCode).toBe(200);

    const del = await api().delete(`${TASKS}/${a.id}/`);
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expect((await api().get(`${TASKS}/${a.id}/`)).statusCode).toBe(404);
    expect((await eventsOf(a.id)).map((e) => e.type)).toEqual(['writer_task.created', 'writer_task.deleted']);

    const bulk = await api().post(`${TASKS}/bulk_delete/`, { ids: [b.id, b.id, 999_999] });
    expect(bulk.statusCode, bulk.body).toBe(200);
    expect(bulk.json().data).toEqual({ deleted: 1, skipped: [999_999] });
    const feed = (await api().get('/api/v1/events/?type=writer_tasks.deleted')).json().data.results;
    expect(feed[0]).toMatchObject({ object_type: 'writer_task', site_id: siteId, payload: { count: 1, ids: [b.id] } });
  });
});

describe('tenancy and security', () => {
  it("answers 404 for another account's task on every route, and never lists it", async () => {
    const task = await newTask();
    const other = as(stranger);
    for (const res of [
      await other.get(`${TASKS}/${task.id}/`),
      await other.patch(`${TASKS}/${task.id}/`, { title: 'Mine now' }),
      await other.delete(`${TASKS}/${task.id}/`),
      await other.post(`${TASKS}/${task.id}/cancel/`),
      await other.post(`${TASKS}/${task.id}/retry/`),
    ]) {
      expect(res.statusCode, res.body).toBe(404);
    }
    expect((await other.post(`${TASKS}/bulk_delete/`, { ids: [task.id] })).json().data).toEqual({
      deleted: 0,
      skipped: [task.id],
    });
    expect((await other.get(`${TASKS}/`)).json().data.count).toBe(0);
    expect((await api().get(`${TASKS}/${task.id}/`)).json().data.status).toBe('queued');
  });

  it('secures every route', async () => {
    const task = await newTask();
    const url = `${TASKS}/${task.id}/`;
    await expectSecured(t, { method: 'GET', url: `${TASKS}/`, owner });
    await expectSecured(t, {
      method: 'POST',
      url: `${TASKS}/`,
      owner,
      payload: { site_id: siteId, sector_id: sectorId, title: 'Secured' },
      siteScopedBody: true,
    });
    await expectSecured(t, { method: 'GET', url, owner, objectScoped: true });
    await expectSecured(t, { method: 'PATCH', url, owner, objectScoped: true, payload: { title: 'x' } });
    await expectSecured(t, { method: 'DELETE', url, owner, objectScoped: true });
    await expectSecured(t, { method: 'POST', url: `${url}cancel/`, owner, objectScoped: true });
    await expectSecured(t, { method: 'POST', url: `${url}retry/`, owner, objectScoped: true });
    await expectSecured(t, { method: 'POST', url: `${TASKS}/bulk_delete/`, owner, payload: { ids: [task.id] } });
    // A write-scoped key writes; a read-only one reads.
    const key = await createApiKey(t, owner, { name: 'writer', scopes: ['read', 'write'] });
    expect((await as(key).post(`${url}cancel/`)).statusCode).toBe(200);
  });
});
