import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../src/app.js';
import { connect, type Database } from '../src/core/db.js';
import { createSector, createSite, type SignedUp, signUp } from './factories.js';
import { buildTestApp, type TestApp, testConfig } from './harness.js';

/**
 * Lists remember their exact count per (account, table, conditions) until the account's rows of that table change
 * (core/read-cache.ts, fed by core/changes.ts). Every write path must be heard: the API, imports, bulk actions,
 * jobs, cascades, SQL that no route wrote; and on Postgres another process's writes, right after they commit, and
 * nothing served while the notifications are not heard.
 */

const KW = '/api/v1/planner/keywords/';
const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

let t: TestApp;
let owner: SignedUp;
let other: SignedUp;
let site: { id: number };
let sector: { id: number };

const get = (url: string, who: SignedUp = owner) => t.request({ method: 'GET', url, headers: who.headers });
const post = (url: string, payload: unknown, who: SignedUp = owner) =>
  t.request({ method: 'POST', url, headers: who.headers, payload: payload as object });

async function count(url = `${KW}?page_size=1`, app: { inject: App['inject'] } = t.app, who: SignedUp = owner) {
  const res = await app.inject({ method: 'GET', url, headers: who.headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data.count as number;
}

/** The rows as Postgres counts them right now: what every cached answer must equal. */
async function truth(where = sql`true`): Promise<number> {
  const result = (await t.database.db.execute(
    sql`select count(*)::int as n from planner_keywords where account_id = ${owner.accountId} and ${where}`,
  )) as unknown as { rows: { n: number }[] };
  return Number(result.rows[0]?.n);
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function addKeywords(
  n: number,
  prefix: string,
  where: { siteId: number; sectorId: number } = { siteId: site.id, sectorId: sector.id },
) {
  const rows = Array.from({ length: n }, (_, i) => ({ keyword: `${prefix} ${i}`, volume: 10 + i }));
  const res = await post(`${KW}import/`, { site_id: where.siteId, sector_id: where.sectorId, rows });
  expect(res.statusCode, res.body).toBe(200);
}

beforeAll(async () => {
  t = await buildTestApp({ WORKER: 'true', JOBS_POLL_MS: '50' });
  owner = await signUp(t);
  other = await signUp(t);
  site = await createSite(t, owner);
  sector = await createSector(t, owner, site.id, 'Trail');
  await addKeywords(30, 'trail shoe');
});
afterAll(async () => t?.close());

describe('count cache in one process', () => {
  it('gives every table its change triggers, per account where it has an account_id', async () => {
    const result = (await t.database.db.execute(sql`
      select c.relname as table,
             exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'account_id') as per_account,
             count(g.oid)::int as triggers,
             count(g.oid) filter (where p.proname = 'cf_notify_change')::int as account_triggers
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
        left join pg_trigger g on g.tgrelid = c.oid and g.tgname like 'cf_changes_%'
        left join pg_proc p on p.oid = g.tgfoid
       where c.relkind = 'r'
       group by c.oid, c.relname`)) as unknown as {
      rows: { table: string; per_account: boolean; triggers: number; account_triggers: number }[];
    };
    expect(result.rows.length).toBeGreaterThan(20);
    const wrong = result.rows.filter(
      (r) => Number(r.triggers) !== 4 || Number(r.account_triggers) !== (String(r.per_account) === 'true' ? 4 : 0),
    );
    expect(wrong).toEqual([]);
    expect(result.rows.filter((r) => String(r.per_account) === 'true').length).toBeGreaterThan(10);
    expect(t.app.services.changes.live).toBe(true);
    expect(t.app.services.changes.tracked.has('planner_keywords')).toBe(true);
    expect(t.app.services.changes.tracked.has('billing_plans')).toBe(false);
  });

  it('remembers a count, per account and per filters', async () => {
    // The set-up's writes are heard first (on Postgres their notifications arrive on their own connection, and one
    // heard after the clear would rightly keep the first count from being remembered).
    await t.app.services.countCache.barrier();
    t.app.services.countCache.clear();
    expect(await count()).toBe(await truth());
    expect(t.app.services.countCache.size()).toBe(1);
    expect(await count()).toBe(await truth());
    expect(t.app.services.countCache.size()).toBe(1);
    // The same filters in another order are the same entry; other filters are another.
    await count(`${KW}?page_size=1&search=shoe&volume__gte=20`);
    await count(`${KW}?volume__gte=20&search=shoe&page_size=5`);
    expect(t.app.services.countCache.size()).toBe(2);
    expect(await count(`${KW}?volume__gte=20&search=shoe`)).toBe(await truth(sql`volume >= 20 and keyword like '%shoe%'`));
    // Another account's list is its own entry, and sees none of these rows.
    expect(await count(`${KW}?page_size=1`, t.app, other)).toBe(0);
    expect(t.app.services.countCache.size()).toBe(3);
  });

  it('is exact after every kind of write: create, update, delete, bulk actions, import', async () => {
    await count();
    const created = await post(KW, { site_id: site.id, sector_id: sector.id, keyword: 'new hiking boot' });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().data.id as number;
    expect(await count()).toBe(await truth());
    expect(await count(`${KW}?status=archived`)).toBe(0);

    const archived = await t.request({
      method: 'PATCH',
      url: `${KW}${id}/`,
      headers: owner.headers,
      payload: { status: 'archived' },
    });
    expect(archived.statusCode, archived.body).toBe(200);
    expect(await count(`${KW}?status=archived`)).toBe(1);

    const ids = (await get(`${KW}?page_size=3&ordering=volume`)).json().data.results.map((k: { id: number }) => k.id);
    const bulk = await post(`${KW}bulk_update/`, { ids, status: 'archived' });
    expect(bulk.statusCode, bulk.body).toBe(200);
    expect(await count(`${KW}?status=archived`)).toBe(await truth(sql`status = 'archived'`));

    const removed = await t.request({ method: 'DELETE', url: `${KW}${id}/`, headers: owner.headers });
    expect(removed.statusCode).toBe(204);
    expect(await count()).toBe(await truth());

    const deleted = await post(`${KW}bulk_delete/`, { ids });
    expect(deleted.statusCode, deleted.body).toBe(200);
    expect(await count()).toBe(await truth());
    expect(await count(`${KW}?status=archived`)).toBe(0);

    await addKeywords(12, 'road shoe');
    expect(await count()).toBe(await truth());
    expect(await count(`${KW}?search=road`)).toBe(12);
  });

  it('is exact after a write no route made, and after a cascade from a deleted sector and site', async () => {
    const before = await count();
    await t.database.db.execute(
      sql`insert into planner_keywords (account_id, site_id, sector_id, keyword) values (${owner.accountId}, ${site.id}, ${sector.id}, 'written by hand')`,
    );
    expect(await count()).toBe(before + 1);

    const doomedSite = await createSite(t, owner);
    const doomed = await createSector(t, owner, doomedSite.id, 'Doomed');
    await addKeywords(5, 'doomed', { siteId: doomedSite.id, sectorId: doomed.id });
    expect(await count()).toBe(await truth());
    const sectorGone = await t.request({ method: 'DELETE', url: `/api/v1/auth/sectors/${doomed.id}/`, headers: owner.headers });
    expect(sectorGone.statusCode, sectorGone.body).toBe(204);
    expect(await count()).toBe(await truth());

    const second = await createSector(t, owner, doomedSite.id, 'Doomed too');
    await addKeywords(3, 'doomed too', { siteId: doomedSite.id, sectorId: second.id });
    expect(await count()).toBe(await truth());
    const siteGone = await t.request({ method: 'DELETE', url: `/api/v1/auth/sites/${doomedSite.id}/`, headers: owner.headers });
    expect(siteGone.statusCode, siteGone.body).toBe(204);
    expect(await count()).toBe(await truth());
  });

  it('is exact after a job changes rows (lexical auto-clustering)', async () => {
    const families = await createSector(t, owner, site.id, 'Families');
    const res = await post(`${KW}import/`, {
      site_id: site.id,
      sector_id: families.id,
      rows: [
        'trail running shoes',
        'trail running shoes women',
        'best trail running shoes',
        'waterproof hiking boots',
        'hiking boots waterproof men',
      ].map((keyword, i) => ({ keyword, volume: 100 * (i + 1) })),
    });
    expect(res.statusCode, res.body).toBe(200);
    const mapped = `${KW}?sector_id=${families.id}&status=mapped`;
    expect(await count(mapped)).toBe(0);
    const started = await post(`${KW}auto_cluster/`, { site_id: site.id, sector_id: families.id });
    expect(started.statusCode, started.body).toBe(202);
    await until(async () => {
      const task = (await get(started.headers.location as string)).json().data;
      return task.status === 'succeeded' || task.status === 'failed';
    }, 'the clustering task');
    const expected = await truth(sql`sector_id = ${families.id} and status = 'mapped'`);
    expect(expected).toBeGreaterThan(0);
    expect(await count(mapped)).toBe(expected);
  });

  it('serves a remembered page and detail row only until they change', async () => {
    const { readCaches } = t.app.services;
    const url = `${KW}?page_size=2&ordering=volume`;
    const first = (await get(url)).json().data;
    expect(readCaches.pages.size()).toBeGreaterThan(0);
    const id = first.results[0].id as number;
    expect((await get(url)).json().data).toEqual(first);
    const detail = (await get(`${KW}${id}/`)).json().data;
    expect(readCaches.rows.size()).toBeGreaterThan(0);
    const again = await get(`${KW}${id}/`);
    expect(again.json().data).toEqual(detail);
    const etag = again.headers.etag as string;
    expect(
      (await t.request({ method: 'GET', url: `${KW}${id}/`, headers: { ...owner.headers, 'if-none-match': etag } })).statusCode,
    ).toBe(304);

    await t.database.db.execute(sql`update planner_keywords set volume = 0, keyword = 'renamed by hand' where id = ${id}`);
    const changed = (await get(`${KW}${id}/`)).json().data;
    expect(changed).toMatchObject({ id, keyword: 'renamed by hand', volume: 0 });
    expect(
      (await t.request({ method: 'GET', url: `${KW}${id}/`, headers: { ...owner.headers, 'if-none-match': etag } })).statusCode,
    ).toBe(200);
    expect((await get(url)).json().data.results[0]).toMatchObject({ id, keyword: 'renamed by hand' });
    // Another account never reads the remembered row.
    expect((await get(`${KW}${id}/`, other)).statusCode).toBe(404);
  });

  it('counts every time, and remembers nothing, while notifications are not heard', async () => {
    const { changes, countCache } = t.app.services;
    await changes.stop();
    try {
      expect(changes.live).toBe(false);
      expect(countCache.size()).toBe(0);
      const before = await count();
      await t.database.db.execute(
        sql`insert into planner_keywords (account_id, site_id, sector_id, keyword) values (${owner.accountId}, ${site.id}, ${sector.id}, 'while deaf')`,
      );
      expect(await count()).toBe(before + 1);
      expect(countCache.size()).toBe(0);
    } finally {
      await changes.start();
    }
    expect(changes.live).toBe(true);
    expect(await count()).toBe(await truth());
    expect(countCache.size()).toBe(1);
  });
});

/** A second app on the same Postgres database: its own pool and its own listening connection, as another process. */
describe.runIf(onPostgres)('count cache across processes (Postgres)', () => {
  let second: App;
  let secondDb: Database;

  beforeAll(async () => {
    const url = (t.database.pool as pg.Pool).options.connectionString as string;
    secondDb = await connect({ databaseUrl: url, poolSize: 4, pgliteDir: 'memory://' });
    second = await buildApp({ config: testConfig(), database: secondDb, logger: false, version: 'test' });
    await second.ready();
  });
  afterAll(async () => {
    await second?.close();
    await secondDb?.close();
  });

  it('reads an exact count in one process right after each write through the other', async () => {
    for (let i = 0; i < 25; i++) {
      await count(`${KW}?page_size=1`, second); // remembered in the second process
      const created = await post(KW, { site_id: site.id, sector_id: sector.id, keyword: `across ${i}` });
      expect(created.statusCode, created.body).toBe(201);
      expect(await count(`${KW}?page_size=1`, second)).toBe(await truth());
    }
    // A write with no route at all, through the first process's connection.
    await count(`${KW}?page_size=1`, second);
    await t.database.db.execute(
      sql`delete from planner_keywords where account_id = ${owner.accountId} and keyword like 'across %'`,
    );
    expect(await count(`${KW}?page_size=1`, second)).toBe(await truth());
    expect(second.services.countCache.size()).toBeGreaterThan(0);
  });

  it('reads a detail row and a page in one process right after each change through the other', async () => {
    const created = await post(KW, { site_id: site.id, sector_id: sector.id, keyword: 'seen from afar', volume: 1 });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().data.id as number;
    const read = (path: string) => second.inject({ method: 'GET', url: path, headers: owner.headers }).then((r) => r.json().data);
    for (let volume = 2; volume < 12; volume++) {
      await read(`${KW}${id}/`);
      await read(`${KW}?page_size=1&ordering=-volume&search=afar`);
      await t.database.db.execute(sql`update planner_keywords set volume = ${volume} where id = ${id}`);
      expect((await read(`${KW}${id}/`)).volume).toBe(volume);
      expect((await read(`${KW}?page_size=1&ordering=-volume&search=afar`)).results[0].volume).toBe(volume);
    }
  });

  it('stops trusting an API key revoked through the other process as soon as the revocation is heard', async () => {
    const created = await post('/api/v1/account/api-keys/', { name: 'shared key' });
    expect(created.statusCode, created.body).toBe(201);
    const { id, key } = created.json().data as { id: number; key: string };
    const asKey = () => second.inject({ method: 'GET', url: `${KW}?page_size=1`, headers: { authorization: `Bearer ${key}` } });
    expect((await asKey()).statusCode).toBe(200); // cached in the second process (30 s otherwise)
    const revoked = await t.request({ method: 'DELETE', url: `/api/v1/account/api-keys/${id}/`, headers: owner.headers });
    expect(revoked.statusCode, revoked.body).toBeLessThan(300);
    await until(async () => (await asKey()).statusCode === 401, 'the revocation to reach the other process', 3_000);
  });

  it('returns from a barrier only once every write committed before it has been heard', async () => {
    for (let i = 0; i < 20; i++) {
      let heard = 0;
      const off = second.services.changes.on('planner_keywords', () => heard++);
      await t.database.db.execute(
        sql`insert into planner_keywords (account_id, site_id, sector_id, keyword) values (${owner.accountId}, ${site.id}, ${sector.id}, ${`barrier ${i}`})`,
      );
      expect(await second.services.changes.barrier()).toBe(true);
      off();
      expect(heard).toBe(1);
    }
  });

  it('leaves no listening connection behind when stopped while it connects', async () => {
    const { changes } = second.services;
    const listeners = async () => {
      const { rows } = await (t.database.pool as pg.Pool).query(
        `select count(*)::int as n from pg_stat_activity
          where application_name = 'contentflow-changes' and datname = current_database()`,
      );
      return rows[0].n as number;
    };
    await changes.stop();
    try {
      const starting = changes.start();
      await changes.stop();
      await starting;
      expect(changes.live).toBe(false);
      // The first app's listener only.
      await until(async () => (await listeners()) === 1, 'the second listener to be gone');
    } finally {
      await changes.start();
    }
    expect(changes.live).toBe(true);
  });

  it('stops serving remembered counts when its listening connection is lost, and resumes once it is back', async () => {
    const { changes, countCache } = second.services;
    await count(`${KW}?page_size=1`, second);
    expect(countCache.size()).toBeGreaterThan(0);
    const admin = new pg.Client({ connectionString: (t.database.pool as pg.Pool).options.connectionString as string });
    await admin.connect();
    try {
      await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
          where application_name = 'contentflow-changes' and datname = current_database() and pid <> pg_backend_pid()`,
      );
    } finally {
      await admin.end();
    }
    await until(() => !changes.live, 'the lost listener to be noticed');
    expect(countCache.size()).toBe(0);
    const created = await post(KW, { site_id: site.id, sector_id: sector.id, keyword: 'while the listener was down' });
    expect(created.statusCode, created.body).toBe(201);
    expect(await count(`${KW}?page_size=1`, second)).toBe(await truth());
    await until(() => changes.live, 'the listener to reconnect');
    await until(() => t.app.services.changes.live, 'the first process to reconnect');
    expect(await count(`${KW}?page_size=1`, second)).toBe(await truth());
    const again = await post(KW, { site_id: site.id, sector_id: sector.id, keyword: 'after the listener came back' });
    expect(again.statusCode, again.body).toBe(201);
    expect(await count(`${KW}?page_size=1`, second)).toBe(await truth());
    expect(countCache.size()).toBeGreaterThan(0);
  });
});
