import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createApiKey, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { expectSecured } from '../../../test/security.js';
import { record } from '../../core/events.js';

let t: TestApp;
let owner: SignedUp;
let other: SignedUp;
beforeAll(async () => {
  t = await buildTestApp();
  owner = await signUp(t);
  other = await signUp(t);
  await t.database.db.transaction(async (tx) => {
    await record(
      tx,
      {
        account_id: owner.accountId,
        type: 'keywords.imported',
        source_agent: 'api',
        actor_id: owner.userId,
        object_type: 'keyword',
        object_id: 1,
        payload: { count: 3 },
      },
      { account_id: owner.accountId, type: 'content.generated', source_agent: 'worker', object_type: 'content', object_id: 7 },
      {
        account_id: owner.accountId,
        type: 'content.published',
        source_agent: 'webhook:wordpress',
        object_type: 'content',
        object_id: 7,
      },
      { account_id: other.accountId, type: 'content.published', source_agent: 'api', object_type: 'content', object_id: 9 },
    );
  });
});
afterAll(() => t?.close());

const get = (url: string, who = owner) => t.request({ method: 'GET', url, headers: who.headers });
/** The types this file records (sign-up records events of its own, such as credits granted). */
const MINE = new Set(['keywords.imported', 'content.generated', 'content.published', 'content.rejected']);
const own = (body: { data: { results: { type: string }[] } }) =>
  body.data.results.map((e) => e.type).filter((type) => MINE.has(type));

describe('GET /api/v1/events/', () => {
  it("lists the account's events newest first, as a cursor feed", async () => {
    const res = await get('/api/v1/events/');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.data.count).toBeNull();
    expect(own(body)).toEqual(['content.published', 'content.generated', 'keywords.imported']);
    const event = body.data.results.find((e: { type: string }) => e.type === 'keywords.imported');
    expect(event).toEqual({
      id: expect.any(Number),
      site_id: null,
      type: 'keywords.imported',
      source_agent: 'api',
      actor_id: owner.userId,
      object_type: 'keyword',
      object_id: 1,
      payload: { count: 3 },
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
  });

  it('pages with next and previous cursors', async () => {
    const first = (await get('/api/v1/events/?page_size=1&type__in=content.generated,content.published,keywords.imported')).json()
      .data;
    expect(first.results).toHaveLength(1);
    expect(first.previous).toBeNull();
    const second = (await get(first.next.replace(/^https?:\/\/[^/]+/, ''))).json().data;
    expect(second.results[0].id).toBeLessThan(first.results[0].id);
    const back = (await get(second.previous.replace(/^https?:\/\/[^/]+/, ''))).json().data;
    expect(back.results[0].id).toBe(first.results[0].id);
  });

  it('also answers page and offset styles, newest first', async () => {
    const paged = (
      await get('/api/v1/events/?page=1&page_size=2&type__in=content.generated,content.published,keywords.imported')
    ).json().data;
    expect(paged.count).toBe(3);
    expect(paged.results.map((e: { type: string }) => e.type)).toEqual(['content.published', 'content.generated']);
    const offset = (
      await get('/api/v1/events/?limit=1&offset=2&type__in=content.generated,content.published,keywords.imported')
    ).json().data;
    expect(offset.results.map((e: { type: string }) => e.type)).toEqual(['keywords.imported']);
  });

  it('filters by type, type__in, source_agent, object_type, object_id and created range', async () => {
    expect(own((await get('/api/v1/events/?type=content.published')).json())).toEqual(['content.published']);
    expect(own((await get('/api/v1/events/?type__in=content.generated,keywords.imported')).json())).toEqual([
      'content.generated',
      'keywords.imported',
    ]);
    expect(own((await get('/api/v1/events/?source_agent=webhook:wordpress')).json())).toEqual(['content.published']);
    expect(own((await get('/api/v1/events/?object_type=content&object_id=7')).json())).toEqual([
      'content.published',
      'content.generated',
    ]);
    expect(own((await get('/api/v1/events/?created_before=2000-01-01')).json())).toEqual([]);
    const today = new Date().toISOString().slice(0, 10);
    expect(own((await get(`/api/v1/events/?created_after=${today}&type=keywords.imported`)).json())).toEqual([
      'keywords.imported',
    ]);
  });

  it('rejects unknown parameters and bad values', async () => {
    expect((await get('/api/v1/events/?colour=red')).statusCode).toBe(400);
    expect((await get('/api/v1/events/?object_id=abc')).statusCode).toBe(400);
    expect((await get('/api/v1/events/?cursor=nonsense')).statusCode).toBe(400);
    expect((await get('/api/v1/events/?created_after=yesterday')).statusCode).toBe(400);
  });

  it("never shows another account's events", async () => {
    const theirs = (await get('/api/v1/events/?object_id=9')).json().data.results;
    expect(theirs).toEqual([]);
    const mine = (await get('/api/v1/events/?object_id=9', other)).json().data.results;
    expect(mine).toHaveLength(1);
  });

  it('is secured', async () => {
    await expectSecured(t, { method: 'GET', url: '/api/v1/events/', owner });
  });
});

describe('site limits', () => {
  it("shows a site-limited member or a site-bound key only their sites' events", async () => {
    const boss = await signUp(t);
    const mine = await createSite(t, boss, 'Reachable');
    const theirs = await createSite(t, boss, 'Out of reach');
    const member = await addMember(t, boss, 'viewer', [mine.id]);
    const key = await createApiKey(t, boss, { scopes: ['read'], site_id: mine.id });
    await t.database.db.transaction((tx) =>
      record(
        tx,
        { account_id: boss.accountId, site_id: mine.id, type: 'keywords.imported', source_agent: 'api', object_id: 1 },
        { account_id: boss.accountId, site_id: theirs.id, type: 'keywords.imported', source_agent: 'api', object_id: 2 },
        { account_id: boss.accountId, type: 'keywords.imported', source_agent: 'api', object_id: 3 },
      ),
    );
    const seen = async (headers: Record<string, string>, style = '') => {
      const res = await t.request({ method: 'GET', url: `/api/v1/events/?type=keywords.imported${style}`, headers });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().data.results.map((e: { object_id: number; site_id: number | null }) => [e.object_id, e.site_id]);
    };
    expect(await seen(boss.headers)).toEqual([
      [3, null],
      [2, theirs.id],
      [1, mine.id],
    ]);
    for (const headers of [member.headers, key.headers]) {
      expect(await seen(headers)).toEqual([[1, mine.id]]);
      expect(await seen(headers, '&page=1')).toEqual([[1, mine.id]]);
    }
  });
});

describe('record()', () => {
  it('refuses a malformed type or source, and writes nothing when the transaction rolls back', async () => {
    await expect(record(t.database.db, { account_id: owner.accountId, type: 'Published', source_agent: 'api' })).rejects.toThrow(
      /lowercase dotted/,
    );
    await expect(
      record(t.database.db, { account_id: owner.accountId, type: 'content.published', source_agent: 'robot' as never }),
    ).rejects.toThrow(/source_agent/);
    await t.database.db
      .transaction(async (tx) => {
        await record(tx, { account_id: owner.accountId, type: 'content.rejected', source_agent: 'api' });
        throw new Error('roll back');
      })
      .catch(() => {});
    expect(own((await get('/api/v1/events/?type=content.rejected')).json())).toEqual([]);
  });
});
