import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendPage } from '../src/core/envelope.js';
import { type ListQuery, listQuerySchema, runList } from '../src/core/lists.js';
import { auth_industries } from '../src/modules/auth/auth.tables.js';
import { buildTestApp, type TestApp } from './harness.js';

/**
 * core/lists.ts, proven on the public industries list (16 seeded rows, default order by name): pagination in
 * both styles, search, ordering, filters and the created range. The cursor style is reached through a route
 * that exists only in this test app (the events feed is its real user).
 */

const LIST = '/api/v1/auth/industries/';
let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp(
    {},
    {
      routes: (app) => {
        const spec = { cursor: true, filters: { slug: { column: auth_industries.slug, kind: 'string' as const, in: true } } };
        app.get(
          '/test/industries-feed',
          { schema: { hide: true, querystring: listQuerySchema(spec) }, config: { access: 'public' } },
          async (request) =>
            sendPage(
              request,
              await runList({
                db: t.database.db,
                table: auth_industries,
                idColumn: auth_industries.id,
                select: { id: auth_industries.id, slug: auth_industries.slug },
                where: [],
                spec,
                query: request.query as ListQuery,
              }),
            ),
        );
      },
    },
  );
});
afterAll(() => t.close());

async function list(query: string) {
  const res = await t.request({ method: 'GET', url: `${LIST}${query}` });
  return { res, status: res.statusCode, body: res.json() };
}
const slugs = (body: { data: { results: { slug: string }[] } }) => body.data.results.map((r) => r.slug);
const query = (link: string | null) => (link === null ? null : Object.fromEntries(new URL(link).searchParams));

describe('page style', () => {
  it('defaults to page 1 of 20, ordered by name then id', async () => {
    const { status, body } = await list('');
    expect(status).toBe(200);
    expect(body.data.count).toBe(16);
    expect(body.data.next).toBeNull();
    expect(body.data.previous).toBeNull();
    expect(body.data.results).toHaveLength(16);
    expect(slugs(body)[0]).toBe('apparel-footwear');
    expect(slugs(body)[15]).toBe('travel-hospitality');
    expect(body.data.results[0].created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('walks pages with next and previous links in the same style, keeping other parameters', async () => {
    const first = await list('?page_size=5&search=e');
    const total = first.body.data.count as number;
    expect(first.body.data.results).toHaveLength(5);
    expect(first.body.data.next).toMatch(/^http:\/\/localhost(:\d+)?\/api\/v1\/auth\/industries\/\?/);
    expect(query(first.body.data.next)).toEqual({ page: '2', page_size: '5', search: 'e' });
    const seen = [...slugs(first.body)];
    let next: string | null = first.body.data.next;
    let pages = 1;
    while (next) {
      const url = new URL(next);
      const page = await t.request({ method: 'GET', url: `${url.pathname}${url.search}` });
      expect(page.statusCode).toBe(200);
      const data = page.json().data;
      expect(query(data.previous)).toEqual({ page: String(pages), page_size: '5', search: 'e' });
      seen.push(...data.results.map((r: { slug: string }) => r.slug));
      next = data.next;
      pages++;
    }
    expect(pages).toBe(Math.ceil(total / 5));
    expect(new Set(seen).size).toBe(total);
  });

  it('a page past the end is 404; page 1 of nothing is an empty page', async () => {
    const past = await list('?page=5&page_size=5');
    expect(past.status).toBe(404);
    expect(past.body.code).toBe('not_found');
    const empty = await list('?search=zzzz-no-match');
    expect(empty.status).toBe(200);
    expect(empty.body.data).toMatchObject({ count: 0, results: [], next: null, previous: null });
  });
});

describe('offset style', () => {
  it('limit and offset, with links in offset style', async () => {
    const { status, body } = await list('?limit=5&offset=5');
    expect(status).toBe(200);
    expect(body.data.count).toBe(16);
    expect(body.data.results).toHaveLength(5);
    expect(slugs(body)[0]).toBe((await list('')).body.data.results[5].slug);
    expect(query(body.data.next)).toEqual({ limit: '5', offset: '10' });
    // Back to the start: offset 0 is left out, as DRF does.
    expect(query(body.data.previous)).toEqual({ limit: '5' });
  });

  it('past the end is an empty page, not an error', async () => {
    const { status, body } = await list('?limit=5&offset=100');
    expect(status).toBe(200);
    expect(body.data.results).toEqual([]);
    expect(body.data.count).toBe(16);
    expect(body.data.next).toBeNull();
  });
});

describe('pagination errors', () => {
  it.each([
    ['?page=1&limit=5', 'non_field_errors'],
    ['?page_size=5&offset=5', 'non_field_errors'],
    ['?page_size=0', 'page_size'],
    ['?page_size=abc', 'page_size'],
    ['?page=0', 'page'],
    ['?limit=0', 'limit'],
    ['?limit=x', 'limit'],
    ['?offset=-1', 'offset'],
  ])('%s is a 400 on %s', async (qs, field) => {
    const { status, body } = await list(qs);
    expect(status).toBe(400);
    expect(body.code).toBe('validation_error');
    expect(body.errors[field]?.length).toBeGreaterThan(0);
  });
});

describe('search', () => {
  it('is a case-insensitive substring over name and description', async () => {
    expect(slugs((await list('?search=GARDEN')).body)).toEqual(['home-garden']);
    // "Cars, parts, servicing" is only in the description.
    expect(slugs((await list('?search=servicing')).body)).toEqual(['automotive']);
  });

  it('treats %, _ and regex characters literally', async () => {
    await t.database.db.execute(sql`
      insert into auth_industries (name, slug) values
        ('100% Organic', 'organic'), ('snake_case Tools', 'snake-case'), ('Dot.Star', 'dot-star')`);
    try {
      expect(slugs((await list('?search=%25')).body)).toEqual(['organic']);
      expect(slugs((await list('?search=_')).body)).toEqual(['snake-case']);
      expect(slugs((await list('?search=e_c')).body)).toEqual(['snake-case']);
      expect(slugs((await list(`?search=${encodeURIComponent('.*')}`)).body)).toEqual([]);
      expect(slugs((await list(`?search=${encodeURIComponent('\\')}`)).body)).toEqual([]);
    } finally {
      await t.database.db.execute(sql`delete from auth_industries where slug in ('organic', 'snake-case', 'dot-star')`);
    }
  });
});

describe('ordering', () => {
  it('orders by declared fields, ascending or descending', async () => {
    const byName = slugs((await list('')).body);
    expect(slugs((await list('?ordering=-name')).body)).toEqual([...byName].reverse());
    expect(slugs((await list('?ordering=slug')).body)).toEqual([...byName].sort());
  });

  it('always ends in id, following the last field’s direction', async () => {
    // Every seeded row has the same created_at: the order is decided by id alone.
    const asc = (await list('?ordering=created_at')).body.data.results.map((r: { id: number }) => r.id);
    const desc = (await list('?ordering=-created_at')).body.data.results.map((r: { id: number }) => r.id);
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    expect(desc).toEqual([...asc].reverse());
    const byId = (await list('?ordering=-id')).body.data.results.map((r: { id: number }) => r.id);
    expect(byId).toEqual(desc);
  });

  it.each(['description', 'suggested_sectors', 'name;drop table x', '--name', 'name,bogus'])('%s is a 400', async (ordering) => {
    const { status, body } = await list(`?ordering=${encodeURIComponent(ordering)}`);
    expect(status).toBe(400);
    expect(body.errors.ordering).toHaveLength(1);
  });
});

describe('filters', () => {
  it('exact and __in', async () => {
    expect(slugs((await list('?slug=finance')).body)).toEqual(['finance']);
    expect(slugs((await list('?slug__in=legal,finance,unknown')).body)).toEqual(['finance', 'legal']);
    expect((await list('?slug=nope')).body.data.count).toBe(0);
  });

  it('an empty __in, or a filter that is not declared, is a 400', async () => {
    expect((await list('?slug__in=')).status).toBe(400);
    expect((await list('?name=Finance')).status).toBe(400);
    expect((await list('?slug__gte=a')).status).toBe(400);
  });

  it('created_after and created_before are inclusive; a date alone covers its whole day', async () => {
    await t.database.db.execute(sql`update auth_industries set created_at = '2020-01-15T23:30:00.000Z' where slug = 'pets'`);
    try {
      expect(slugs((await list('?created_before=2020-01-15')).body)).toEqual(['pets']);
      expect(slugs((await list('?created_after=2020-01-15&created_before=2020-01-15')).body)).toEqual(['pets']);
      expect(slugs((await list('?created_before=2020-01-15T23:29:59.999Z')).body)).toEqual([]);
      expect(slugs((await list('?created_after=2020-01-15T23:30:00.000Z&created_before=2020-01-16')).body)).toEqual(['pets']);
      expect((await list('?created_after=2020-01-16')).body.data.count).toBe(15);
    } finally {
      await t.database.db.execute(
        sql`update auth_industries set created_at = (select min(created_at) from auth_industries where slug <> 'pets') where slug = 'pets'`,
      );
    }
  });

  it.each(['yesterday', '2020-13-45', '15/01/2020'])('created_after=%s is a 400', async (value) => {
    const { status, body } = await list(`?created_after=${encodeURIComponent(value)}`);
    expect(status).toBe(400);
    expect(body.errors.created_after).toBeDefined();
  });
});

describe('caps', () => {
  it('a page size over 200 is capped, not refused', async () => {
    await t.database.db.execute(sql`
      insert into auth_industries (name, slug) select 'Bulk ' || n, 'bulk-' || n from generate_series(1, 200) n`);
    try {
      const { status, body } = await list('?page_size=1000');
      expect(status).toBe(200);
      expect(body.data.count).toBe(216);
      expect(body.data.results).toHaveLength(200);
      expect(query(body.data.next)).toEqual({ page: '2', page_size: '200' });
      const offset = await list('?limit=999');
      expect(offset.body.data.results).toHaveLength(200);
      expect(query(offset.body.data.next)).toEqual({ limit: '200', offset: '200' });
    } finally {
      await t.database.db.execute(sql`delete from auth_industries where slug like 'bulk-%'`);
    }
  });
});

describe('cursor style (test-only route)', () => {
  const feed = async (qs: string) => {
    const res = await t.request({ method: 'GET', url: `/test/industries-feed${qs}` });
    return { status: res.statusCode, body: res.json() };
  };
  const follow = (link: string) => {
    const url = new URL(link);
    return feed(url.search);
  };
  const ids = (body: { data: { results: { id: number }[] } }) => body.data.results.map((r) => r.id);

  it('pages newest first with no count, forwards and back', async () => {
    const first = await feed('?cursor=&page_size=6');
    expect(first.status).toBe(200);
    expect(first.body.data.count).toBeNull();
    expect(first.body.data.previous).toBeNull();
    const firstIds = ids(first.body);
    expect(firstIds).toEqual([...firstIds].sort((a, b) => b - a));
    const second = await follow(first.body.data.next);
    const third = await follow(second.body.data.next);
    expect(ids(third.body)).toHaveLength(4);
    expect(third.body.data.next).toBeNull();
    const all = [...firstIds, ...ids(second.body), ...ids(third.body)];
    expect(new Set(all).size).toBe(16);
    expect(all).toEqual([...all].sort((a, b) => b - a));
    const back = await follow(third.body.data.previous);
    expect(ids(back.body)).toEqual(ids(second.body));
    const start = await follow(back.body.data.previous);
    expect(ids(start.body)).toEqual(firstIds);
    expect(start.body.data.previous).toBeNull();
  });

  it('filters apply, and bad cursors, mixed styles or ordering are 400', async () => {
    expect(ids((await feed('?cursor=&slug__in=finance,legal')).body)).toHaveLength(2);
    expect((await feed('?cursor=bm9wZQ')).status).toBe(400);
    expect((await feed('?cursor=&page=2')).status).toBe(400);
    expect((await feed('?cursor=&limit=2')).status).toBe(400);
  });
});

describe('schema', () => {
  it('documents every parameter and rejects anything else', () => {
    const schema = listQuerySchema({ search: [auth_industries.name], ordering: { name: auth_industries.name } });
    expect(Object.keys(schema.properties).sort()).toEqual(
      ['created_after', 'created_before', 'limit', 'offset', 'ordering', 'page', 'page_size', 'search'].sort(),
    );
    expect((schema as { additionalProperties?: unknown }).additionalProperties).toBe(false);
  });
});
