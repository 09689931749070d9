import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createApiKey, createSector, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { expectSecured } from '../../../test/security.js';
import * as repo from './writer.repository.js';
import { writer_images } from './writer.tables.js';

const CONTENT = '/api/v1/writer/content';
let t: TestApp;
let owner: SignedUp;
let stranger: SignedUp;
let siteId: number;
let sectorId: number;
let clusterId: number;

beforeAll(async () => {
  t = await buildTestApp();
  owner = await signUp(t);
  stranger = await signUp(t);
  siteId = (await createSite(t, owner)).id;
  sectorId = (await createSector(t, owner, siteId)).id;
  clusterId = (
    await t.request({
      method: 'POST',
      url: '/api/v1/planner/clusters/',
      headers: owner.headers,
      payload: { site_id: siteId, sector_id: sectorId, name: 'Trail' },
    })
  ).json().data.id;
});
afterAll(async () => {
  await t?.close();
});

const HOSTILE =
  '<h2 onclick="x()">Fit</h2><script>alert(1)</script><p>Trail <a href="javascript:alert(1)">shoes</a> ' +
  '<img src="x.png" onerror="alert(1)"> grip.</p><img src="data:image/png;base64,AAAA"><iframe src="https://x"></iframe>';

describe('the repository: one choke point for article text', () => {
  it('inserts sanitised html, counts words from it, and makes the slug unique per site', async () => {
    const db = t.database.db;
    const first = await repo.insertContent(db, owner.accountId, {
      site_id: siteId,
      sector_id: sectorId,
      title: 'Trail Shoés: a Guide!',
      html: HOSTILE,
    });
    expect(first.slug).toBe('trail-shoes-a-guide');
    expect(first.html).toBe('<h2>Fit</h2><p>Trail <a>shoes</a> <img src="x.png" /> grip.</p>');
    expect(first.html).not.toMatch(/script|onerror|onclick|javascript:|data:|iframe/);
    expect(first.word_count).toBe(4);
    expect(first.version).toBe(1);

    const [second, third] = await Promise.all([
      repo.insertContent(db, owner.accountId, { site_id: siteId, sector_id: sectorId, title: 'Trail shoes a guide' }),
      repo.insertContent(db, owner.accountId, { site_id: siteId, sector_id: sectorId, title: 'trail-shoes-a-guide' }),
    ]);
    expect([second.slug, third.slug].sort()).toEqual(['trail-shoes-a-guide-2', 'trail-shoes-a-guide-3']);

    // Another site may use the same slug.
    const otherSite = (await createSite(t, owner)).id;
    const otherSector = (await createSector(t, owner, otherSite)).id;
    const elsewhere = await repo.insertContent(db, owner.accountId, {
      site_id: otherSite,
      sector_id: otherSector,
      title: 'Trail shoes, a guide',
    });
    expect(elsewhere.slug).toBe('trail-shoes-a-guide');

    // A slug asked for exactly is refused on a clash when the caller says so (a person's choice), not renamed.
    await expect(
      db.transaction((tx) =>
        repo.insertContent(
          tx,
          owner.accountId,
          { site_id: siteId, sector_id: sectorId, title: 'x', slug: 'trail-shoes-a-guide' },
          { slugTaken: 'error' },
        ),
      ),
    ).rejects.toMatchObject({ code: 'validation_error', options: { errors: { slug: expect.any(Array) } } });
  });

  it('keeps the previous text as a version on a text change, and none on other changes', async () => {
    const db = t.database.db;
    const row = await repo.insertContent(db, owner.accountId, {
      site_id: siteId,
      sector_id: sectorId,
      title: 'Versions',
      html: '<p>one two</p>',
    });
    const revised = await db.transaction((tx) =>
      repo.reviseContent(
        tx,
        owner.accountId,
        row.id,
        { html: '<p>one two three<script>x</script></p>', tags: ['a'] },
        {
          userId: owner.userId,
          reason: 'edit',
          expectedVersion: 1,
        },
      ),
    );
    expect(revised).toMatchObject({ version: 2, html: '<p>one two three</p>', word_count: 3, tags: ['a'] });
    const versions = await repo.contentVersions(db, owner.accountId, row.id);
    expect(versions).toEqual([
      expect.objectContaining({ number: 1, html: '<p>one two</p>', word_count: 2, reason: 'edit', created_by_id: owner.userId }),
    ]);

    // Tags alone: no version, same version number.
    const tagged = await db.transaction((tx) =>
      repo.reviseContent(tx, owner.accountId, row.id, { tags: ['b'] }, { userId: null, reason: 'edit' }),
    );
    expect(tagged.version).toBe(2);
    // Nothing different: nothing written.
    const same = await db.transaction((tx) =>
      repo.reviseContent(tx, owner.accountId, row.id, { html: '<p>one two three</p>' }, { userId: null, reason: 'edit' }),
    );
    expect(same.updated_at).toEqual(tagged.updated_at);
    expect(await repo.contentVersions(db, owner.accountId, row.id)).toHaveLength(1);

    // A stale version is a 412 and changes nothing.
    await expect(
      db.transaction((tx) =>
        repo.reviseContent(tx, owner.accountId, row.id, { title: 'Stale' }, { userId: null, reason: 'edit', expectedVersion: 1 }),
      ),
    ).rejects.toMatchObject({ code: 'precondition_failed' });
    expect((await repo.contentById(db, owner.accountId, row.id))?.title).toBe('Versions');
  });

  it('keeps a revised slug unique, and reads only the account (and reachable sites)', async () => {
    const db = t.database.db;
    const a = await repo.insertContent(db, owner.accountId, { site_id: siteId, sector_id: sectorId, title: 'Slug A' });
    const b = await repo.insertContent(db, owner.accountId, { site_id: siteId, sector_id: sectorId, title: 'Slug B' });
    const moved = await db.transaction((tx) =>
      repo.reviseContent(tx, owner.accountId, b.id, { slug: a.slug }, { userId: null, reason: 'restore' }),
    );
    expect(moved.slug).toBe('slug-a-2');
    await expect(
      db.transaction((tx) =>
        repo.reviseContent(tx, owner.accountId, b.id, { slug: a.slug }, { userId: null, reason: 'edit', slugTaken: 'error' }),
      ),
    ).rejects.toMatchObject({ code: 'validation_error' });
    // Its own slug is not a clash.
    const kept = await db.transaction((tx) =>
      repo.reviseContent(tx, owner.accountId, a.id, { slug: 'Slug A', title: 'Slug A!' }, { userId: null, reason: 'edit' }),
    );
    expect(kept.slug).toBe('slug-a');

    const stranger = await signUp(t);
    expect(await repo.contentById(db, stranger.accountId, a.id)).toBeNull();
    expect(await repo.contentById(db, owner.accountId, a.id, [])).toBeNull();
    expect(await repo.contentById(db, owner.accountId, a.id, [siteId])).toMatchObject({ id: a.id });
    await expect(
      db.transaction((tx) => repo.reviseContent(tx, stranger.accountId, a.id, { title: 'x' }, { userId: null, reason: 'edit' })),
    ).rejects.toMatchObject({ code: 'not_found' });
  });

  it('reads writer tasks of the account only', async () => {
    const db = t.database.db;
    const [task] = await repo.insertTasks(db, owner.accountId, [
      { site_id: siteId, sector_id: sectorId, title: 'Task', word_count_target: 800 },
    ]);
    const id = task?.id;
    expect(await repo.writerTaskById(db, owner.accountId, id as number)).toMatchObject({ id, status: 'queued' });
    expect(await repo.writerTaskById(db, owner.accountId + 1000, id as number)).toBeNull();
    expect(await repo.writerTaskById(db, owner.accountId, id as number, [])).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Through the API

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

async function newContent(body: Record<string, unknown> = {}) {
  const res = await api().post(`${CONTENT}/`, { site_id: siteId, sector_id: sectorId, title: 'An article', ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data;
}

async function eventsOf(objectId: number) {
  const res = await api().get(`/api/v1/events/?object_type=content&object_id=${objectId}`);
  return (res.json().data.results as { type: string; site_id: number | null; payload: Record<string, unknown> }[]).reverse();
}

const PROVENANCE = {
  model: 'gpt-test',
  prompt: { function: 'content', hash: 'abc123' },
  temperature: 0.7,
  tokens_in: 120,
  tokens_out: 900,
  credits: 8,
  task_id: 3,
  job_id: 'job-1',
  generated_at: '2026-12-01T10:00:00.000Z',
};

/** Stored as it is, bypassing the API: what only the publisher (or a job) may do. */
const setStatus = (id: number, status: 'published' | 'review') =>
  t.database.db.transaction((tx) => repo.reviseContent(tx, owner.accountId, id, { status }, { userId: null, reason: 'edit' }));

describe('creating content', () => {
  it('creates a manual draft with sanitised html, counted words and a slug unique per site', async () => {
    const res = await api().post(`${CONTENT}/`, {
      site_id: siteId,
      sector_id: sectorId,
      title: ' Trail shoes for mud ',
      html: HOSTILE,
      meta_title: 'Trail shoes',
      meta_description: 'Which trail shoes grip in mud.',
      primary_keyword: 'trail shoes',
      secondary_keywords: ['mud shoes'],
      categories: ['Shoes'],
      tags: ['mud'],
      cluster_id: clusterId,
    });
    expect(res.statusCode, res.body).toBe(201);
    const row = res.json().data;
    expect(res.headers.location).toMatch(new RegExp(`${CONTENT}/${row.id}/$`));
    expect(row).toEqual({
      id: expect.any(Number),
      account_id: owner.accountId,
      site_id: siteId,
      sector_id: sectorId,
      title: 'Trail shoes for mud',
      html: '<h2>Fit</h2><p>Trail <a>shoes</a> <img src="x.png" /> grip.</p>',
      meta_title: 'Trail shoes',
      meta_description: 'Which trail shoes grip in mud.',
      slug: 'trail-shoes-for-mud',
      primary_keyword: 'trail shoes',
      secondary_keywords: ['mud shoes'],
      word_count: 4,
      categories: ['Shoes'],
      tags: ['mud'],
      featured_image_id: null,
      source: 'manual',
      task_id: null,
      cluster_id: clusterId,
      status: 'draft',
      external_id: null,
      external_url: null,
      provenance: null,
      version: 1,
      submitted_at: null,
      reviewed_by_id: null,
      reviewed_at: null,
      review_note: null,
      created_at: expect.stringMatching(/Z$/),
      updated_at: expect.any(String),
    });
    expect(res.headers.etag).toBe((await api().get(`${CONTENT}/${row.id}/`)).headers.etag);
    // Same title again: the slug is made unique; the same slug asked for exactly is a field error.
    expect((await newContent({ title: 'Trail shoes for mud' })).slug).toBe('trail-shoes-for-mud-2');
    const taken = await api().post(`${CONTENT}/`, {
      site_id: siteId,
      sector_id: sectorId,
      title: 'x',
      slug: 'trail-shoes-for-mud',
    });
    expect(taken.statusCode).toBe(400);
    expect(taken.json().errors.slug).toEqual(['Another article of this site has this slug.']);
    expect((await newContent({ title: 'x', slug: 'My Own Slug' })).slug).toBe('my-own-slug');
    const events = await eventsOf(row.id);
    expect(events.map((e) => [e.type, e.site_id])).toEqual([['content.created', siteId]]);
  });

  it('refuses a cluster of another sector, unknown fields and a status', async () => {
    const sector = await createSector(t, owner, siteId);
    const res = await api().post(`${CONTENT}/`, {
      site_id: siteId,
      sector_id: sector.id,
      title: 'x',
      cluster_id: clusterId,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.cluster_id).toEqual(["The cluster belongs to another site or sector than the article's."]);
    const bad = await api().post(`${CONTENT}/`, {
      site_id: siteId,
      sector_id: sectorId,
      title: 'x',
      status: 'approved',
      word_count: 9,
    });
    expect(Object.keys(bad.json().errors).sort()).toEqual(['non_field_errors', 'status', 'word_count']);
  });
});

describe('listing content', () => {
  it('leaves out html and provenance, and filters, searches and orders', async () => {
    const sector = await createSector(t, owner, siteId);
    const make = (title: string, html: string) => newContent({ sector_id: sector.id, title, html });
    const a = await make('Alpha boots', '<p>one</p>');
    const b = await make('Beta boots', '<p>one two three</p>');
    const c = await make('Gamma socks', '<p>one two</p>');
    await api().post(`${CONTENT}/${b.id}/submit_for_review/`);
    const [task] = await repo.insertTasks(t.database.db, owner.accountId, [
      { site_id: siteId, sector_id: sector.id, title: 'Task', word_count_target: 800 },
    ]);
    const generated = await repo.insertContent(t.database.db, owner.accountId, {
      site_id: siteId,
      sector_id: sector.id,
      title: 'Generated boots',
      html: '<p>a b c d</p>',
      source: 'generated',
      task_id: task?.id ?? null,
      provenance: PROVENANCE,
    });
    const detail = (await api().get(`${CONTENT}/${generated.id}/`)).json().data;
    expect(detail).toMatchObject({ html: '<p>a b c d</p>', provenance: PROVENANCE, version: 1, task_id: task?.id });
    const page = await api().get(`${CONTENT}/?sector_id=${sector.id}`);
    expect(page.statusCode, page.body).toBe(200);
    const rows = page.json().data.results;
    expect(rows.map((r: { id: number }) => r.id)).toEqual([generated.id, c.id, b.id, a.id]);
    expect(rows[0]).not.toHaveProperty('html');
    expect(rows[0]).not.toHaveProperty('provenance');
    expect(rows[0]).toMatchObject({ version: 1, word_count: 4, source: 'generated' });
    const ids = async (query: string) => {
      const res = await api().get(`${CONTENT}/?sector_id=${sector.id}&${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json().data.results.map((r: { id: number }) => r.id);
    };
    expect(await ids('status=review')).toEqual([b.id]);
    expect(await ids('status__in=review,draft&source=manual&ordering=title')).toEqual([a.id, b.id, c.id]);
    expect(await ids('source__in=generated')).toEqual([generated.id]);
    expect(await ids(`task_id=${task?.id}`)).toEqual([generated.id]);
    expect(await ids('task_id=null&search=BOOTS&ordering=-word_count')).toEqual([b.id, a.id]);
    expect(await ids(`site_id=${siteId}&ordering=word_count&word_count__gte=2`)).toEqual([c.id, b.id, generated.id]);
    expect(await ids(`cluster_id=${clusterId}`)).toEqual([]);
    expect(await ids('ordering=-updated_at&page_size=1')).toHaveLength(1);
    for (const query of ['status=done', 'ordering=html', 'html=x', 'source=robot']) {
      expect((await api().get(`${CONTENT}/?${query}`)).statusCode, query).toBe(400);
    }
  });
});

describe('editing content', () => {
  it('keeps each previous text as a version, sanitises what a person sends, and answers a fresh ETag', async () => {
    const row = await newContent({ html: '<p>First text.</p>', meta_title: 'First' });
    const first = await api().get(`${CONTENT}/${row.id}/`);
    const res = await api().patch(
      `${CONTENT}/${row.id}/`,
      { html: '<p onmouseover="steal()">Second <a href="javascript:void(0)" rel="nofollow">text</a><script>x()</script>.</p>' },
      { 'if-match': first.headers.etag as string },
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({ html: '<p>Second <a rel="nofollow">text</a>.</p>', word_count: 2, version: 2 });
    expect(res.headers.etag).not.toBe(first.headers.etag);
    expect(res.headers.etag).toBe((await api().get(`${CONTENT}/${row.id}/`)).headers.etag);
    const stored = await repo.contentById(t.database.db, owner.accountId, row.id);
    expect(stored?.html).not.toMatch(/script|onmouseover|javascript/);

    // Labels are not text: no version; a meta field is.
    await api().patch(`${CONTENT}/${row.id}/`, { tags: ['x'], categories: ['y'] });
    await api().patch(`${CONTENT}/${row.id}/`, { meta_description: 'Now described.' });
    const versions = (await api().get(`${CONTENT}/${row.id}/versions/`)).json().data;
    expect(versions.count).toBe(2);
    expect(versions.results.map((v: { number: number; reason: string }) => [v.number, v.reason])).toEqual([
      [2, 'edit'],
      [1, 'edit'],
    ]);
    expect(versions.results[0]).not.toHaveProperty('html');
    expect(versions.results[1]).toEqual({
      id: expect.any(Number),
      content_id: row.id,
      number: 1,
      title: 'An article',
      meta_title: 'First',
      meta_description: '',
      slug: row.slug,
      primary_keyword: '',
      secondary_keywords: [],
      word_count: 2,
      reason: 'edit',
      created_by_id: owner.userId,
      created_at: expect.any(String),
    });
    const v1 = await api().get(`${CONTENT}/${row.id}/versions/1/`);
    expect(v1.statusCode).toBe(200);
    expect(v1.json().data).toMatchObject({ number: 1, html: '<p>First text.</p>' });
    expect((await api().get(`${CONTENT}/${row.id}/versions/3/`)).statusCode).toBe(404);

    const events = await eventsOf(row.id);
    expect(events.map((e) => [e.type, e.payload.fields])).toEqual([
      ['content.created', undefined],
      ['content.updated', ['html']],
      ['content.updated', ['categories', 'tags']],
      ['content.updated', ['meta_description']],
    ]);
  });

  it('answers 412 to a stale If-Match and changes nothing; of two racing edits one wins, one is told', async () => {
    const row = await newContent({ html: '<p>Base.</p>' });
    const etag = (await api().get(`${CONTENT}/${row.id}/`)).headers.etag as string;
    const [one, two] = await Promise.all([
      api().patch(`${CONTENT}/${row.id}/`, { html: '<p>Editor one.</p>' }, { 'if-match': etag }),
      api().patch(`${CONTENT}/${row.id}/`, { html: '<p>Editor two.</p>' }, { 'if-match': etag }),
    ]);
    expect([one.statusCode, two.statusCode].sort()).toEqual([200, 412]);
    const winner = one.statusCode === 200 ? one : two;
    const loser = one.statusCode === 200 ? two : one;
    expect(loser.json()).toMatchObject({ success: false, code: 'precondition_failed' });
    const now = (await api().get(`${CONTENT}/${row.id}/`)).json().data;
    expect(now.html).toBe(winner.json().data.html);
    expect(now.version).toBe(2);
    // Nothing lost: the base text is version 1, the loser can reapply on top of the winner's.
    expect((await api().get(`${CONTENT}/${row.id}/versions/1/`)).json().data.html).toBe('<p>Base.</p>');
    const retried = await api().patch(
      `${CONTENT}/${row.id}/`,
      { html: '<p>Editor two, again.</p>' },
      { 'if-match': winner.headers.etag as string },
    );
    expect(retried.statusCode).toBe(200);
    // `*` and no If-Match at all are not preconditions.
    expect((await api().patch(`${CONTENT}/${row.id}/`, { title: 'Any' }, { 'if-match': '*' })).statusCode).toBe(200);
  });

  it('restores a version exactly, as a new version that can itself be restored', async () => {
    const tricky =
      '<h2>Caf\u00e9 &amp; tea</h2><p>5 &lt; 6 &gt; 4, \u201cquoted\u201d &quot;plain&quot;\u00a0nbsp \u{1F45F}</p>' +
      '<ul><li>one</li><li><a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener">two</a></li></ul>' +
      '<table><tbody><tr><td colspan="2">cell</td></tr></tbody></table><pre><code>if (a &lt; b) {}</code></pre>';
    const row = await newContent({
      title: 'Original title',
      html: tricky,
      meta_title: 'Original meta',
      meta_description: 'Original description',
      primary_keyword: 'original',
      secondary_keywords: ['first', 'second'],
    });
    const original = (await api().get(`${CONTENT}/${row.id}/`)).json().data;
    await api().patch(`${CONTENT}/${row.id}/`, {
      title: 'Changed title',
      html: '<p>Changed.</p>',
      meta_title: 'Changed meta',
      meta_description: 'Changed description',
      primary_keyword: 'changed',
      secondary_keywords: ['third'],
      slug: 'changed-slug',
    });
    await api().patch(`${CONTENT}/${row.id}/`, { html: '<p>Changed again.</p>' });
    const restored = await api().post(`${CONTENT}/${row.id}/versions/1/restore/`);
    expect(restored.statusCode, restored.body).toBe(200);
    const TEXT = [
      'title',
      'html',
      'meta_title',
      'meta_description',
      'slug',
      'primary_keyword',
      'secondary_keywords',
      'word_count',
    ];
    const pick = (data: Record<string, unknown>) => Object.fromEntries(TEXT.map((k) => [k, data[k]]));
    expect(pick(restored.json().data)).toEqual(pick(original));
    expect(restored.json().data.html).toBe(original.html);
    expect(restored.json().data.version).toBe(4);
    const versions = (await api().get(`${CONTENT}/${row.id}/versions/`)).json().data.results;
    expect(versions.map((v: { number: number; reason: string }) => [v.number, v.reason])).toEqual([
      [3, 'restore'],
      [2, 'edit'],
      [1, 'edit'],
    ]);
    // The text the restore replaced is itself restorable, exactly.
    const back = await api().post(`${CONTENT}/${row.id}/versions/3/restore/`);
    expect(back.json().data).toMatchObject({
      html: '<p>Changed again.</p>',
      slug: 'changed-slug',
      title: 'Changed title',
      version: 5,
    });
    expect((await eventsOf(row.id)).filter((e) => e.type === 'content.restored').map((e) => e.payload.restored_version)).toEqual([
      1, 3,
    ]);
    expect((await api().post(`${CONTENT}/${row.id}/versions/9/restore/`)).statusCode).toBe(404);
  });

  it('links only its own images as featured, and refuses a status or a taken slug', async () => {
    const row = await newContent();
    const other = await newContent({ title: 'Other' });
    const image = async (contentId: number) =>
      (
        await t.database.db
          .insert(writer_images)
          .values({
            account_id: owner.accountId,
            site_id: siteId,
            sector_id: sectorId,
            content_id: contentId,
            image_type: 'featured',
            prompt: 'A shoe',
          })
          .returning()
      )[0]?.id as number;
    const mine = await image(row.id);
    const theirs = await image(other.id);
    const refused = await api().patch(`${CONTENT}/${row.id}/`, { featured_image_id: theirs });
    expect(refused.json().errors).toEqual({ featured_image_id: ['Not an image of this article.'], non_field_errors: [] });
    const linked = await api().patch(`${CONTENT}/${row.id}/`, { featured_image_id: mine });
    expect(linked.json().data).toMatchObject({ featured_image_id: mine, version: 1 });
    const status = await api().patch(`${CONTENT}/${row.id}/`, { status: 'approved' });
    expect(status.json().errors.status).toEqual(['This field is not allowed.']);
    const slug = await api().patch(`${CONTENT}/${row.id}/`, { slug: other.slug, title: 'Kept?' });
    expect(slug.statusCode).toBe(400);
    expect((await api().get(`${CONTENT}/${row.id}/`)).json().data.title).toBe('An article');
  });
});

describe('the status machine', () => {
  it('moves only through its actions, and answers 409 naming the current status otherwise', async () => {
    const row = await newContent();
    const url = `${CONTENT}/${row.id}`;
    for (const action of ['reopen', 'archive']) {
      const res = await api().post(`${url}/${action}/`);
      expect(res.statusCode, action).toBe(409);
      expect(res.json()).toMatchObject({ code: 'conflict', details: { current_status: 'draft' } });
    }
    const submitted = await api().post(`${url}/submit_for_review/`);
    expect(submitted.statusCode, submitted.body).toBe(200);
    expect(submitted.json().data).toMatchObject({ status: 'review', submitted_at: expect.any(String) });
    expect((await api().post(`${url}/submit_for_review/`)).json().details).toEqual({ current_status: 'review' });
    // A published article stays editable and published, is archived, not deleted; an archived one is read-only.
    await setStatus(row.id, 'published');
    expect((await api().patch(`${url}/`, { title: 'Still published' })).json().data.status).toBe('published');
    expect((await api().delete(`${url}/`)).json().details).toEqual({ current_status: 'published' });
    const archived = await api().post(`${url}/archive/`);
    expect(archived.json().data.status).toBe('archived');
    expect((await api().patch(`${url}/`, { title: 'x' })).json().details).toEqual({ current_status: 'archived' });
    expect((await api().post(`${url}/versions/1/restore/`)).statusCode).toBe(409);
    expect((await eventsOf(row.id)).map((e) => e.type)).toEqual([
      'content.created',
      'content.submitted',
      'content.updated',
      'content.archived',
    ]);
    const del = await api().delete(`${url}/`);
    expect(del.statusCode).toBe(204);
    expect((await api().get(`${url}/`)).statusCode).toBe(404);
    expect(await repo.contentVersions(t.database.db, owner.accountId, row.id)).toEqual([]);
    expect((await eventsOf(row.id)).at(-1)?.type).toBe('content.deleted');
  });
});

describe('tenancy and security', () => {
  it("answers 404 for another account's content on every route, and never lists it", async () => {
    const row = await newContent({ html: '<p>a</p>' });
    await api().patch(`${CONTENT}/${row.id}/`, { html: '<p>b</p>' });
    const other = as(stranger);
    const url = `${CONTENT}/${row.id}`;
    for (const res of [
      await other.get(`${url}/`),
      await other.patch(`${url}/`, { title: 'Mine' }),
      await other.delete(`${url}/`),
      await other.get(`${url}/versions/`),
      await other.get(`${url}/versions/1/`),
      await other.post(`${url}/versions/1/restore/`),
      await other.post(`${url}/submit_for_review/`),
      await other.post(`${url}/reopen/`),
      await other.post(`${url}/archive/`),
    ]) {
      expect(res.statusCode, res.body).toBe(404);
    }
    expect((await other.get(`${CONTENT}/`)).json().data.count).toBe(0);
    expect((await api().get(`${url}/`)).json().data).toMatchObject({ title: 'An article', status: 'draft' });
  });

  it("shows a site-limited member only their sites' content", async () => {
    const otherSite = (await createSite(t, owner)).id;
    const otherSector = (await createSector(t, owner, otherSite)).id;
    const theirs = await newContent({ site_id: otherSite, sector_id: otherSector, title: 'Elsewhere' });
    const mine = await newContent();
    const limited = await addMember(t, owner, 'editor', [otherSite]);
    const rows = (await as(limited).get(`${CONTENT}/?page_size=200`)).json().data.results as { site_id: number }[];
    expect(rows.map((r) => r.site_id)).toEqual([otherSite]);
    expect((await as(limited).get(`${CONTENT}/${theirs.id}/`)).statusCode).toBe(200);
    expect((await as(limited).get(`${CONTENT}/${mine.id}/`)).statusCode).toBe(404);
    expect((await as(limited).patch(`${CONTENT}/${mine.id}/`, { title: 'x' })).statusCode).toBe(404);
    const create = await as(limited).post(`${CONTENT}/`, { site_id: siteId, sector_id: sectorId, title: 'x' });
    expect(create.statusCode).toBe(400);
    expect(create.json().errors.site_id).toBeDefined();
  });

  it('secures every route', async () => {
    const row = await newContent({ html: '<p>a</p>' });
    await api().patch(`${CONTENT}/${row.id}/`, { html: '<p>b</p>' });
    const url = `${CONTENT}/${row.id}/`;
    await expectSecured(t, { method: 'GET', url: `${CONTENT}/`, owner });
    await expectSecured(t, {
      method: 'POST',
      url: `${CONTENT}/`,
      owner,
      payload: { site_id: siteId, sector_id: sectorId, title: 'Secured' },
      siteScopedBody: true,
    });
    await expectSecured(t, { method: 'GET', url, owner, objectScoped: true });
    await expectSecured(t, { method: 'PATCH', url, owner, objectScoped: true, payload: { title: 'x' } });
    await expectSecured(t, { method: 'DELETE', url, owner, objectScoped: true });
    await expectSecured(t, { method: 'GET', url: `${url}versions/`, owner, objectScoped: true });
    await expectSecured(t, { method: 'GET', url: `${url}versions/1/`, owner, objectScoped: true });
    await expectSecured(t, { method: 'POST', url: `${url}versions/1/restore/`, owner, objectScoped: true });
    for (const action of ['submit_for_review', 'reopen', 'archive']) {
      await expectSecured(t, { method: 'POST', url: `${url}${action}/`, owner, objectScoped: true });
    }
    const key = await createApiKey(t, owner, { name: 'editor key', scopes: ['read', 'write'] });
    const byKey = await as(key).patch(url, { title: 'By a key' });
    expect(byKey.statusCode).toBe(200);
    const versions = (await api().get(`${url}versions/`)).json().data.results;
    expect(versions[0]).toMatchObject({ number: 2, created_by_id: null });
  });
});
