import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiKey, createSector, createSite, rowsOf, type SignedUp, signUp } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { expectSecured } from '../../../test/security.js';

const CONTENT = '/api/v1/writer/content';
const QUEUE = '/api/v1/writer/approvals';
let t: TestApp;
let owner: SignedUp;
let stranger: SignedUp;
let siteId: number;
let sectorId: number;

const as = (who: { headers: Record<string, string> }) => ({
  get: (url: string) => t.request({ method: 'GET', url, headers: who.headers }),
  post: (url: string, payload?: unknown) =>
    t.request({ method: 'POST', url, headers: who.headers, ...(payload === undefined ? {} : { payload: payload as object }) }),
});
const api = () => as(owner);

/** An article submitted for review (`submitted_at` set now: tests move Date to order the queue). */
async function inReview(body: Record<string, unknown> = {}, who: SignedUp = owner) {
  const created = await as(who).post(`${CONTENT}/`, { site_id: siteId, sector_id: sectorId, title: 'For review', ...body });
  expect(created.statusCode, created.body).toBe(201);
  const id = created.json().data.id as number;
  const submitted = await as(who).post(`${CONTENT}/${id}/submit_for_review/`);
  expect(submitted.statusCode, submitted.body).toBe(200);
  return submitted.json().data;
}

async function eventsOf(objectId: number) {
  const res = await api().get(`/api/v1/events/?object_type=content&object_id=${objectId}`);
  return (res.json().data.results as { type: string; actor_id: number | null; payload: Record<string, unknown> }[]).reverse();
}

beforeAll(async () => {
  t = await buildTestApp();
  owner = await signUp(t);
  stranger = await signUp(t);
  siteId = (await createSite(t, owner)).id;
  sectorId = (await createSector(t, owner, siteId)).id;
});
afterAll(async () => {
  vi.useRealTimers();
  await t?.close();
});

describe('the review queue', () => {
  it('lists content in review, oldest submission first, without html', async () => {
    const site = await createSite(t, owner);
    const sector = await createSector(t, owner, site.id);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-01T10:00:00.000Z'));
    const draft = await api().post(`${CONTENT}/`, { site_id: site.id, sector_id: sector.id, title: 'Still a draft' });
    const later = await api().post(`${CONTENT}/`, { site_id: site.id, sector_id: sector.id, title: 'Created first' });
    const earlier = await api().post(`${CONTENT}/`, { site_id: site.id, sector_id: sector.id, title: 'Created second' });
    vi.setSystemTime(new Date('2026-11-02T10:00:00.000Z'));
    await api().post(`${CONTENT}/${earlier.json().data.id}/submit_for_review/`);
    vi.setSystemTime(new Date('2026-11-03T10:00:00.000Z'));
    await api().post(`${CONTENT}/${later.json().data.id}/submit_for_review/`);
    vi.useRealTimers();
    const res = await api().get(`${QUEUE}/?site_id=${site.id}`);
    expect(res.statusCode, res.body).toBe(200);
    const rows = res.json().data.results;
    expect(rows.map((r: { id: number }) => r.id)).toEqual([earlier.json().data.id, later.json().data.id]);
    expect(rows[0]).toMatchObject({ status: 'review', submitted_at: '2026-11-02T10:00:00.000Z' });
    expect(rows[0]).not.toHaveProperty('html');
    expect(rows.map((r: { id: number }) => r.id)).not.toContain(draft.json().data.id);
    const newestFirst = await api().get(`${QUEUE}/?site_id=${site.id}&ordering=-submitted_at&search=FIRST`);
    expect(newestFirst.json().data.results.map((r: { id: number }) => r.id)).toEqual([later.json().data.id]);
    expect((await api().get(`${QUEUE}/?status=draft`)).statusCode).toBe(400);
  });
});

describe('approving', () => {
  it('approves with the reviewer, the time and the note, and records content.approved', async () => {
    const row = await inReview();
    const res = await api().post(`${QUEUE}/${row.id}/approve/`, { note: 'Good to go.' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toEqual({
      ...row,
      status: 'approved',
      reviewed_by_id: owner.userId,
      reviewed_at: expect.stringMatching(/Z$/),
      review_note: 'Good to go.',
      updated_at: expect.any(String),
    });
    const events = await eventsOf(row.id);
    expect(events.at(-1)).toMatchObject({
      type: 'content.approved',
      actor_id: owner.userId,
      payload: { note: 'Good to go.', reviewer_id: owner.userId, status: 'approved' },
    });
    const again = await api().post(`${QUEUE}/${row.id}/approve/`, {});
    expect(again.statusCode).toBe(409);
    expect(again.json().details).toEqual({ current_status: 'approved' });
    expect((await api().get(`${QUEUE}/?page_size=200`)).json().data.results.map((r: { id: number }) => r.id)).not.toContain(
      row.id,
    );
  });

  it('approves with publish: true and queues its publication (202 with the task and the record)', async () => {
    const row = await inReview();
    const res = await api().post(`${QUEUE}/${row.id}/approve/`, { publish: true });
    expect(res.statusCode, res.body).toBe(202);
    const data = res.json().data;
    expect(res.headers.location).toMatch(new RegExp(`/api/v1/system/tasks/${data.task_id}/$`));
    expect(data).toMatchObject({
      status: 'queued',
      record_ids: [expect.any(Number)],
      content: { id: row.id, status: 'approved' },
    });
    const record = await api().get(`/api/v1/publisher/publishing-records/${data.record_ids[0]}/`);
    expect(record.json().data).toMatchObject({ content_id: row.id, status: 'pending', task_id: data.task_id });
  });

  it('refuses publish: true for an article the publisher cannot send, on `publish`, and changes nothing', async () => {
    const row = await inReview();
    // A featured image without a file yet (its prompt only).
    const [image] = await rowsOf<{ id: number }>(
      t,
      sql`insert into writer_images (account_id, site_id, sector_id, content_id, image_type, prompt)
          values (${owner.accountId}, ${siteId}, ${sectorId}, ${row.id}, 'featured', 'A hero') returning id`,
    );
    await t.database.db.execute(sql`update writer_content set featured_image_id = ${image?.id} where id = ${row.id}`);
    const res = await api().post(`${QUEUE}/${row.id}/approve/`, { publish: true });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.publish).toEqual([
      `Content ${row.id}: its featured image ${image?.id} has no file yet; generate it or clear featured_image_id.`,
    ]);
    expect((await api().get(`${CONTENT}/${row.id}/`)).json().data.status).toBe('review');
    expect((await api().post(`${QUEUE}/${row.id}/approve/`, { publish: false })).json().data.status).toBe('approved');
  });

  it('records an API key as the reviewer by its id in the event, with no user', async () => {
    const key = await createApiKey(t, owner, { name: 'reviewer bot', scopes: ['read', 'write'] });
    const row = await inReview();
    const res = await as(key).post(`${QUEUE}/${row.id}/approve/`, {});
    expect(res.json().data).toMatchObject({ status: 'approved', reviewed_by_id: null, review_note: null });
    expect((await eventsOf(row.id)).at(-1)).toMatchObject({
      type: 'content.approved',
      actor_id: null,
      payload: { api_key_id: key.id },
    });
  });
});

describe('rejecting', () => {
  it('needs a note, rejects, and the article goes back to draft to be submitted again', async () => {
    const row = await inReview();
    for (const body of [{}, { note: '' }, { note: '   ' }]) {
      const res = await api().post(`${QUEUE}/${row.id}/reject/`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().errors.note).toBeDefined();
    }
    const res = await api().post(`${QUEUE}/${row.id}/reject/`, { note: ' Too thin on fit. ' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({ status: 'rejected', review_note: 'Too thin on fit.', reviewed_by_id: owner.userId });
    expect((await api().post(`${QUEUE}/${row.id}/reject/`, { note: 'again' })).json().details).toEqual({
      current_status: 'rejected',
    });
    expect((await api().post(`${CONTENT}/${row.id}/submit_for_review/`)).json().details).toEqual({
      current_status: 'rejected',
    });
    const reopened = await api().post(`${CONTENT}/${row.id}/reopen/`);
    expect(reopened.json().data).toMatchObject({ status: 'draft', review_note: 'Too thin on fit.' });
    const resubmitted = await api().post(`${CONTENT}/${row.id}/submit_for_review/`);
    expect(resubmitted.json().data).toMatchObject({ status: 'review', review_note: null, reviewed_by_id: null });
    expect((await eventsOf(row.id)).map((e) => e.type)).toEqual([
      'content.created',
      'content.submitted',
      'content.rejected',
      'content.reopened',
      'content.submitted',
    ]);
  });
});

describe('overriding', () => {
  it('saves the edit as an override version, sanitised, and approves in one step', async () => {
    const row = await inReview({ html: '<p>Draft text.</p>', meta_title: 'Draft' });
    const res = await api().post(`${QUEUE}/${row.id}/override/`, {
      html: '<p>Fixed <img src="javascript:alert(1)" onerror="x()">text.</p><style>p{}</style>',
      meta_title: 'Fixed',
      note: 'Tightened the intro.',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({
      status: 'approved',
      html: '<p>Fixed text.</p>',
      meta_title: 'Fixed',
      word_count: 2,
      version: 2,
      review_note: 'Tightened the intro.',
      reviewed_by_id: owner.userId,
    });
    const versions = (await api().get(`${CONTENT}/${row.id}/versions/`)).json().data.results;
    expect(versions).toEqual([expect.objectContaining({ number: 1, reason: 'override', meta_title: 'Draft' })]);
    expect((await api().get(`${CONTENT}/${row.id}/versions/1/`)).json().data.html).toBe('<p>Draft text.</p>');
    expect((await eventsOf(row.id)).at(-1)).toMatchObject({
      type: 'content.approved',
      payload: { override: true, fields: ['html', 'meta_title'], previous_version: 1, version: 2 },
    });
  });

  it('changes nothing when the edit is refused, or the article is not in review', async () => {
    const other = await inReview({ title: 'Taken slug' });
    const row = await inReview();
    const res = await api().post(`${QUEUE}/${row.id}/override/`, { slug: other.slug, title: 'New title' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.slug).toBeDefined();
    expect((await api().get(`${CONTENT}/${row.id}/`)).json().data).toMatchObject({
      status: 'review',
      title: 'For review',
      version: 1,
    });
    const draft = (await api().post(`${CONTENT}/`, { site_id: siteId, sector_id: sectorId, title: 'Draft' })).json().data;
    const notInReview = await api().post(`${QUEUE}/${draft.id}/override/`, { title: 'x' });
    expect(notInReview.statusCode).toBe(409);
    expect(notInReview.json().details).toEqual({ current_status: 'draft' });
  });
});

describe('tenancy and security', () => {
  it("answers 404 for another account's content on every review route, and never lists it", async () => {
    const row = await inReview();
    const other = as(stranger);
    for (const [action, body] of [
      ['approve', {}],
      ['reject', { note: 'no' }],
      ['override', { title: 'x' }],
    ] as const) {
      const res = await other.post(`${QUEUE}/${row.id}/${action}/`, body);
      expect(res.statusCode, action).toBe(404);
    }
    expect((await other.get(`${QUEUE}/`)).json().data.count).toBe(0);
    expect((await api().get(`${CONTENT}/${row.id}/`)).json().data.status).toBe('review');
  });

  it('secures every route', async () => {
    const row = await inReview();
    await expectSecured(t, { method: 'GET', url: `${QUEUE}/`, owner });
    await expectSecured(t, { method: 'POST', url: `${QUEUE}/${row.id}/approve/`, owner, objectScoped: true, payload: {} });
    await expectSecured(t, {
      method: 'POST',
      url: `${QUEUE}/${row.id}/reject/`,
      owner,
      objectScoped: true,
      payload: { note: 'No.' },
    });
    await expectSecured(t, {
      method: 'POST',
      url: `${QUEUE}/${row.id}/override/`,
      owner,
      objectScoped: true,
      payload: { title: 'x' },
    });
    expect((await api().get(`${CONTENT}/${row.id}/`)).json().data.status).toBe('review');
  });
});
