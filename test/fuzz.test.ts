import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writer_images } from '../src/modules/writer/writer.tables.js';
import { createApiKey, createSector, createSite, makeStaff, rowsOf, type SignedUp, signUp } from './factories.js';
import { buildTestApp, type TestApp } from './harness.js';

/**
 * Hostile input against every operation of `/api/schema` (issue 10): each body field and each query parameter
 * gets wrong types, NUL, lone surrogates, huge/negative/fractional numbers, deep nesting, `__proto__` and
 * 20 KB strings. Every answer must be below 500 (a 503 only as `service_unavailable`, a dependency not
 * configured), in the envelope, and a request that was refused must have changed nothing (every table's row
 * count, the events log included, is the same before and after). The caller is an owner who is also staff,
 * of an account with a site, a sector, keywords, a cluster and an idea, whose ids fill the paths, so id routes
 * reach their handlers.
 */

let t: TestApp;
let owner: SignedUp;
const ids: Record<string, number> = {};
let operations: Operation[] = [];
let tables: string[] = [];

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  const?: unknown;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  minimum?: number;
  minItems?: number;
  examples?: unknown[];
}
interface Operation {
  method: string;
  path: string;
  url: string;
  query: { name: string; schema: Schema }[];
  body: Schema | null;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/**
 * Each walk sends a few thousand requests (a few seconds on an idle 2-core machine); under a loaded machine it has
 * been seen at 45 s, so the walks get their own timeout rather than the suite's 30 s.
 */
const WALK_TIMEOUT_MS = 180_000;
/**
 * They end the caller's own session; what they refuse is covered by their own tests. The live events stream never
 * ends when its query is valid (an injected request would wait for ever); its refusals are covered by its tests.
 */
const SKIPPED = new Set(['POST /api/v1/auth/logout', 'POST /api/v1/auth/change-password', 'GET /api/v1/events/stream']);
const MARK = '\u0001hostile\u0001';

/** Raw JSON tokens: some cannot be written by JSON.stringify (`1e400` parses as Infinity). */
const HOSTILE_JSON: string[] = [
  '"a\\u0000b"',
  '"\\ud800x"',
  '"x\\udfff"',
  JSON.stringify('x'.repeat(20_000)),
  '2147483648',
  '9007199254740993',
  '1e308',
  '1e400',
  '-99999999999999999999',
  '1e-320',
  '1.5',
  '-1',
  '"5"',
  'true',
  'null',
  '[]',
  '{}',
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  `${'['.repeat(2000)}${']'.repeat(2000)}`,
  `${'{"a":'.repeat(500)}1${'}'.repeat(500)}`,
];

/** Percent-encoded query values: every parameter gets the first list, and a seeded sample of the second. */
const cursorPast = Buffer.from('a9999999999').toString('base64url');
const HOSTILE_QUERY: string[] = [
  '%00',
  '%ED%A0%80',
  'x'.repeat(20_000),
  '2147483648',
  '9007199254740993',
  '1e400',
  '-99999999999999999999',
  '1e-320',
  '1.5',
  '',
  '1,2147483648',
  cursorPast,
];
const MORE_HOSTILE_QUERY: string[] = [
  'a%00b',
  '%F0%9F',
  '%',
  '1e308',
  '-1',
  '0',
  'abc',
  'null',
  '0000-01-01',
  '2026-02-30',
  `${'1,'.repeat(1500)}1`,
  '__proto__',
];

/**
 * Most parameters and fields share a schema with many others (ids, paging, flags, names): the validator answers
 * a value the same way for all of them, and what it accepts reaches each one's handler. So the first FULL_WALKS
 * fields of a schema (counted per walk) get every hostile value and every random one, and each later one a
 * seeded, rotating sample of SAMPLED hostile values and one random value: every value still reaches several
 * handlers, every field still gets hostile input, at a fraction of the requests.
 */
const FULL_WALKS = 2;
const SAMPLED = 2;
/** What a schema accepts, without the words that describe it (a field named `title` is kept: it is an object). */
const shapeOf = (schema: unknown): string =>
  JSON.stringify(schema, (key, value) =>
    ((key === 'description' || key === 'title') && typeof value === 'string') || (key === 'examples' && Array.isArray(value))
      ? undefined
      : value,
  );
const walked = new Map<string, number>();
function hostileFor<T>(key: string, fixed: T[], random: T[], seed: number): T[] {
  const seen = walked.get(key) ?? 0;
  walked.set(key, seen + 1);
  if (seen < FULL_WALKS) return [...fixed, ...random];
  const sample = Array.from(
    { length: Math.min(SAMPLED, fixed.length) },
    (_, i) => fixed[(seed * SAMPLED + i) % fixed.length] as T,
  );
  const one = random[seed % random.length];
  return one === undefined ? sample : [...sample, one];
}

/** A few more values per field from fast-check (seeded, so a failure reproduces). */
const randomJson = (seed: number) =>
  fc
    .sample(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.double(),
        fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
        fc.jsonValue({ maxDepth: 3 }),
      ),
      { numRuns: 2, seed },
    )
    .map((value) => (typeof value === 'bigint' ? value.toString() : (JSON.stringify(value) ?? 'null')));
const randomQuery = (seed: number) =>
  fc.sample(fc.constantFrom(...MORE_HOSTILE_QUERY), { numRuns: 2, seed }).concat(
    fc.sample(fc.string({ unit: 'binary', maxLength: 40 }), { numRuns: 1, seed }).map((value) =>
      // A lone surrogate cannot be percent-encoded; its WTF-8 bytes are what a client would send.
      wellFormed(value)
        ? encodeURIComponent(value)
        : encodeURIComponent(value.replace(/[\uD800-\uDFFF]/g, '')).concat('%ED%B0%80'),
    ),
  );

let sequence = 0;
/** A value the schema accepts, so the one hostile field is what the request gets wrong. */
function plausible(schema: Schema | undefined, name: string, path: string): unknown {
  if (!schema) return 'fuzz';
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.examples?.length) return schema.examples[0];
  if (schema.anyOf) return plausible(schema.anyOf.find((s) => s.type !== 'null') ?? schema.anyOf[0], name, path);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (type === 'integer' || type === 'number') {
    if (name in ids) return ids[name];
    return Math.max(schema.minimum ?? 1, 1);
  }
  if (type === 'boolean') return true;
  if (type === 'array') {
    if (name === 'ids') return [idFor(path)];
    if (name === 'site_ids') return [ids.site_id];
    return Array.from({ length: schema.minItems ?? 0 }, () => plausible(schema.items, name, path));
  }
  if (type === 'object' || schema.properties) {
    const value: Record<string, unknown> = {};
    for (const key of schema.required ?? []) value[key] = plausible(schema.properties?.[key], key, path);
    return value;
  }
  if (schema.format === 'email') return `fuzz-${process.pid}-${++sequence}@example.com`;
  if (schema.format === 'uri') return 'https://example.com/';
  if (schema.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
  if (schema.pattern) {
    const pattern = new RegExp(schema.pattern, 'u');
    const fit = ['1.25', 'fuzz', `fuzz-${++sequence}`, 'UTC', 'usd', 'USD', '2026-01-01'].find((c) => pattern.test(c));
    if (fit) return fit;
  }
  if (name.includes('password')) return 'correct horse battery staple';
  return `fuzz ${++sequence}`.padEnd(schema.minLength ?? 0, 'x');
}

/** The id of the collection a path's `{id}` (or a bulk action's `ids`) refers to. */
function idFor(path: string): number {
  if (path.includes('/sectors')) return ids.sector_id as number;
  if (path.includes('/sites')) return ids.site_id as number;
  if (path.includes('/clusters')) return ids.cluster_id as number;
  if (path.includes('/content-ideas')) return ids.idea_id as number;
  if (path.includes('/keywords')) return ids.keyword_id as number;
  if (path.includes('/api-keys')) return ids.api_key_id as number;
  if (path.includes('/writer/images')) return ids.image_id as number;
  if (path.includes('/users') || path.includes('/team')) return ids.user_id as number;
  if (path.includes('/admin/accounts')) return ids.account_id as number;
  if (path.includes('/writer/tasks')) return ids.writer_task_id as number;
  if (path.includes('/writer/content') || path.includes('/writer/approvals')) return ids.content_id as number;
  return 1;
}

/** Each body field (and each field of array items) with the hostile token in its place, as JSON text. */
function hostileBodies(body: Schema, path: string): { field: string; payload: string }[] {
  const base = plausible(body, '', path) as Record<string, unknown>;
  const out: { field: string; payload: string }[] = [];
  const placed = (value: unknown) => JSON.stringify(value).replace(JSON.stringify(MARK), '%TOKEN%');
  for (const [name, schema] of Object.entries(body.properties ?? {})) {
    const variants: { field: string; value: unknown }[] = [{ field: name, value: { ...base, [name]: MARK } }];
    const item = schema.items ?? schema.anyOf?.find((s) => s.items)?.items;
    if (item) {
      variants.push({ field: `${name}.0`, value: { ...base, [name]: [MARK] } });
      for (const sub of Object.keys(item.properties ?? {})) {
        const element = { ...(plausible(item, sub, path) as object), [sub]: MARK };
        variants.push({ field: `${name}.0.${sub}`, value: { ...base, [name]: [element] } });
      }
    }
    for (const variant of variants) {
      const template = placed(variant.value);
      const seed = ++sequence;
      const key = `body ${shapeOf(schema)}`;
      for (const token of hostileFor(key, HOSTILE_JSON, randomJson(seed), seed)) {
        out.push({ field: variant.field, payload: template.replace('%TOKEN%', token) });
      }
    }
  }
  return out;
}

/** Every table's row count, as one line (`fuzz_row_counts()`, made in this file's database in beforeAll). */
async function rowCounts(): Promise<string> {
  const [row] = await rowsOf<{ counts: string }>(t, sql`select fuzz_row_counts() as counts`);
  return row?.counts ?? '';
}

/**
 * The count of every table, in a PL/pgSQL function of the test's own database: it keeps its query's plan, where
 * the same union sent as text was planned again on every call (a fifth of the walks' time).
 */
async function createRowCounts(): Promise<void> {
  const union = tables.map((table) => `select '${table}' as t, count(*)::int as n from "${table}"`).join(' union all ');
  await t.database.db.execute(
    sql.raw(`create function fuzz_row_counts() returns text language plpgsql as $body$
      declare counts text;
      begin
        select string_agg(c.t || '=' || c.n, ' ' order by c.t) into counts from (${union}) c;
        return counts;
      end $body$`),
  );
}

/** Why an answer breaks the contract, or null. */
function problem(res: Awaited<ReturnType<TestApp['request']>>): string | null {
  const status = res.statusCode;
  const type = String(res.headers['content-type'] ?? '');
  if (status === 204 || status === 304) return null;
  if (status < 300 && !type.includes('json')) return null; // CSV downloads, event streams
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.body);
  } catch {
    return `${status} not JSON: ${res.body.slice(0, 120)}`;
  }
  if (status >= 500 && !(status === 503 && body.code === 'service_unavailable')) return `${status} ${res.body.slice(0, 200)}`;
  if (typeof body.request_id !== 'string' || body.request_id !== res.headers['x-request-id']) return `${status} no request_id`;
  if (status < 400) return body.success === true && 'data' in body ? null : `${status} not a success envelope`;
  const shaped =
    body.success === false &&
    typeof body.error === 'string' &&
    typeof body.code === 'string' &&
    (body.errors === undefined || (typeof body.errors === 'object' && body.errors !== null));
  return shaped ? null : `${status} not an error envelope: ${res.body.slice(0, 200)}`;
}

beforeAll(async () => {
  t = await buildTestApp();
  owner = await signUp(t);
  await makeStaff(t, owner);
  const site = await createSite(t, owner);
  const sector = await createSector(t, owner, site.id);
  Object.assign(ids, { account_id: owner.accountId, user_id: owner.userId, site_id: site.id, sector_id: sector.id });
  const post = async (url: string, payload: object) => {
    const res = await t.request({ method: 'POST', url, headers: owner.headers, payload });
    if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return res.json().data;
  };
  const scope = { site_id: site.id, sector_id: sector.id };
  ids.cluster_id = (await post('/api/v1/planner/clusters/', { ...scope, name: 'trail shoes' })).id;
  ids.keyword_id = (await post('/api/v1/planner/keywords/', { ...scope, keyword: 'trail shoes', cluster_id: ids.cluster_id })).id;
  await post('/api/v1/planner/keywords/', { ...scope, keyword: 'running shoes', volume: 100 });
  ids.idea_id = (
    await post('/api/v1/planner/content-ideas/', { ...scope, title: 'Best trail shoes', cluster_id: ids.cluster_id })
  ).id;
  ids.api_key_id = (await createApiKey(t, owner)).id;
  ids.writer_task_id = (await post('/api/v1/writer/tasks/', { ...scope, title: 'Trail shoes', idea_id: ids.idea_id })).id;
  ids.content_id = (await post('/api/v1/writer/content/', { ...scope, title: 'Trail shoes', html: '<p>One.</p>' })).id;
  await t.request({
    method: 'PATCH',
    url: `/api/v1/writer/content/${ids.content_id}/`,
    headers: owner.headers,
    payload: { html: '<p>Two.</p>' },
  });
  await post(`/api/v1/writer/content/${ids.content_id}/submit_for_review/`, {});
  // An image of that article, so the writer's image routes reach their handlers.
  const [image] = await t.database.db
    .insert(writer_images)
    .values({
      ...scope,
      account_id: owner.accountId,
      content_id: ids.content_id as number,
      image_type: 'featured',
      prompt: 'A shoe',
    })
    .returning({ id: writer_images.id });
  ids.image_id = image?.id as number;

  const document = (await t.request({ method: 'GET', url: '/api/schema' })).json() as {
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: { in: string; name: string; schema: Schema }[];
          requestBody?: { content?: Record<string, { schema: Schema }> };
        }
      >
    >;
  };
  operations = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        url: path
          .replace('{id}', String(idFor(path)))
          .replace('{function}', 'ideas')
          .replace('{number}', '1'),
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema })),
        body: op.requestBody?.content?.['application/json']?.schema ?? null,
      }))
      .filter((op) => !SKIPPED.has(`${op.method} ${op.path}`)),
  );
  const listed = (await t.database.db.execute(
    sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
  )) as unknown as { rows: { table_name: string }[] };
  tables = listed.rows.map((r) => r.table_name);
  await createRowCounts();
}, 120_000);
afterAll(() => t?.close());

interface Sent {
  label: string;
  send: () => ReturnType<TestApp['request']>;
}

/** Sends a group of requests; reports contract breaks, and any change of row counts when all were refused. */
async function run(group: string, requests: Sent[], failures: string[]) {
  const before = await rowCounts();
  let refusedAll = true;
  const found: string[] = [];
  for (const request of requests) {
    let res: Awaited<ReturnType<Sent['send']>>;
    try {
      res = await request.send();
    } catch (error) {
      // light-my-request's "response destroyed before completion": an answer cut off midway.
      found.push(`${request.label}: ${(error as Error).message}`);
      refusedAll = false;
      continue;
    }
    if (res.statusCode < 400) refusedAll = false;
    const wrong = problem(res);
    if (wrong) found.push(`${request.label}: ${wrong}`);
  }
  // One line per group (the first case, and how many more), so one broken class does not hide the others.
  if (found.length > 0) failures.push(`${found[0]}${found.length > 1 ? ` (+${found.length - 1} more)` : ''}`);
  if (refusedAll) {
    const after = await rowCounts();
    if (after !== before) failures.push(`${group}: refused, yet rows changed`);
  }
}

describe('hostile input on every operation of /api/schema', () => {
  it('found the operations', () => {
    expect(operations.length).toBeGreaterThan(100);
    expect(operations.filter((op) => op.body).length).toBeGreaterThan(30);
  });

  it(
    'query parameters: no 5xx, always the envelope, nothing changed when refused',
    async () => {
      const failures: string[] = [];
      for (const op of operations) {
        // One group per operation: row counts are compared once per operation, which keeps the file fast.
        const requests: Sent[] = [];
        const params = [...op.query, { name: '__proto__', schema: {} }, { name: 'constructor', schema: {} }];
        for (const { name, schema } of params) {
          const seed = ++sequence;
          for (const value of hostileFor(`query ${shapeOf(schema)}`, HOSTILE_QUERY, randomQuery(seed), seed)) {
            const url = `${op.url}?${name}=${value}`;
            requests.push({ label: `${op.method} ${op.path} ?${name}=${value.slice(0, 40)}`, send: () => send(op, url) });
          }
          requests.push({
            label: `${op.method} ${op.path} ?${name} twice`,
            send: () => send(op, `${op.url}?${name}=1&${name}=2`),
          });
        }
        await run(`${op.method} ${op.path} (query)`, requests, failures);
      }
      expect(failures.slice(0, 40)).toEqual([]);
    },
    WALK_TIMEOUT_MS,
  );

  it(
    'body fields: no 5xx, always the envelope, nothing changed when refused',
    async () => {
      const failures: string[] = [];
      for (const op of operations) {
        if (!op.body?.properties) continue;
        const bodies = hostileBodies(op.body, op.path);
        const byField = new Map<string, Sent[]>();
        for (const { field, payload } of bodies) {
          const list = byField.get(field) ?? [];
          list.push({ label: `${op.method} ${op.path} ${field}=${payload.slice(0, 60)}`, send: () => send(op, op.url, payload) });
          byField.set(field, list);
        }
        for (const [field, requests] of byField) await run(`${op.method} ${op.path} ${field}`, requests, failures);
      }
      expect(failures.slice(0, 40)).toEqual([]);
    },
    WALK_TIMEOUT_MS,
  );

  it('the caller is still signed in (no hostile request ended the session)', async () => {
    const me = await t.request({ method: 'GET', url: '/api/v1/auth/me/', headers: owner.headers });
    expect(me.statusCode).toBe(200);
  });
});

/** The cases the issue names, each asserting the field the answer names. */
describe('the named cases', () => {
  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: string, headers: Record<string, string> = {}) =>
    t.request({
      method,
      url,
      headers: { ...owner.headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(payload === undefined ? {} : { payload }),
    });
  const expectField = async (res: Awaited<ReturnType<typeof call>>, field: string) => {
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('validation_error');
    expect(Object.keys(res.json().errors)).toContain(field);
  };
  const KW = '/api/v1/planner/keywords/';

  it('NUL and lone surrogates are field errors at validation, in bodies, queries and searches', async () => {
    const scope = `"site_id":${ids.site_id},"sector_id":${ids.sector_id}`;
    await expectField(await call('POST', KW, `{${scope},"keyword":"trail\\u0000shoes"}`), 'keyword');
    await expectField(await call('POST', KW, `{${scope},"keyword":"trail\\ud800shoes"}`), 'keyword');
    await expectField(await call('PATCH', `/api/v1/auth/sites/${ids.site_id}/`, '{"description":"a\\u0000"}'), 'description');
    await expectField(await call('GET', `${KW}?search=a%00b`), 'search');
    // Bytes that are not UTF-8 (a surrogate's WTF-8 form) are decoded as U+FFFD, never as a lone surrogate.
    expect((await call('GET', `${KW}?search=%ED%A0%80`)).statusCode).toBe(200);
    await expectField(await call('GET', '/api/v1/auth/sites/?slug__in=a%00b'), 'slug__in');
    await expectField(await call('GET', '/api/v1/events/?type=a%00'), 'type');
    // Basic credentials are decoded from the header: a NUL in them names no one.
    const basic = Buffer.from('a\0b@example.com:correct horse battery staple').toString('base64');
    const res = await t.request({ method: 'GET', url: '/api/v1/auth/me/', headers: { authorization: `Basic ${basic}` } });
    expect(res.statusCode, res.body).toBe(401);
  });

  it('numbers past their column are field errors naming the field', async () => {
    for (const value of ['2147483648', '9007199254740993', '1e308', '1e400', '-99999999999999999999']) {
      await expectField(await call('POST', `${KW}bulk_delete/`, `{"ids":[${value}]}`), 'ids.0');
      await expectField(await call('POST', KW, `{"site_id":${value},"sector_id":${ids.sector_id},"keyword":"x"}`), 'site_id');
      await expectField(await call('GET', `${KW}?cluster_id=${value}`), 'cluster_id');
      await expectField(await call('GET', `${KW}?cluster_id__in=1,${value}`), 'cluster_id__in');
      await expectField(await call('GET', `${KW}?volume__gte=${value}`), 'volume__gte');
      await expectField(await call('GET', `${KW}?site_id=${value}`), 'site_id');
      for (const paging of ['page', 'page_size', 'limit', 'offset']) {
        await expectField(await call('GET', `${KW}?${paging}=${value}`), paging);
      }
      await expectField(await call('GET', `/api/v1/events/?object_id=${value}`), 'object_id');
      // In a path, an id that is not a positive int4 names nothing.
      expect((await call('GET', `${KW}${value}/`)).statusCode).toBe(404);
    }
    // smallint columns: difficulty filters stop at 32767.
    await expectField(await call('GET', '/api/v1/planner/clusters/?difficulty__lte=40000'), 'difficulty__lte');
    for (const value of ['1e-320', '1e400', '-1e400']) {
      await expectField(await call('PATCH', '/api/v1/system/settings/', `{"temperature":${value}}`), 'temperature');
    }
    const page = await call('GET', `/api/v1/events/?cursor=${Buffer.from('a9999999999').toString('base64url')}`);
    await expectField(page, 'cursor');
    await expectField(await call('GET', `${KW}?created_after=0000-01-01`), 'created_after');
    await expectField(await call('GET', `${KW}?ordering=__proto__`), 'ordering');
  });

  it('multipart over a JSON body is a 415; an import with no body and no content type is a 415; nothing is stored', async () => {
    const before = await rowCounts();
    const multipart = { 'content-type': 'multipart/form-data; boundary=x' };
    const form = '--x\r\nContent-Disposition: form-data; name="keyword"\r\n\r\nshoes\r\n--x--\r\n';
    for (const url of [KW, `${KW}bulk_delete/`, '/api/v1/auth/sites/', '/api/v1/planner/clusters/']) {
      const res = await t.request({ method: 'POST', url, headers: { ...owner.headers, ...multipart }, payload: form });
      expect(res.statusCode, `${url} ${res.body}`).toBe(415);
      expect(res.json()).toMatchObject({ success: false, code: 'unsupported_media_type' });
    }
    const bare = await t.request({ method: 'POST', url: `${KW}import/`, headers: owner.headers });
    expect(bare.statusCode, bare.body).toBe(415);
    expect(bare.json().code).toBe('unsupported_media_type');
    const noBoundary = await t.request({
      method: 'POST',
      url: `${KW}import/`,
      headers: { ...owner.headers, 'content-type': 'multipart/form-data' },
      payload: 'keyword\nshoes\n',
    });
    expect(noBoundary.statusCode, noBoundary.body).toBe(400);
    expect(await rowCounts()).toBe(before);
  });

  it('a CSV export checks every filter before its first byte', async () => {
    for (const query of ['search=a%00b', 'volume__gte=2147483648', 'cluster_id__in=1,99999999999', 'created_after=0000-01-01']) {
      const res = await call('GET', `${KW}export/?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type']).toContain('application/json');
      expect(res.json()).toMatchObject({ success: false, code: 'validation_error' });
    }
    const made = await call(
      'POST',
      KW,
      JSON.stringify({ site_id: ids.site_id, sector_id: ids.sector_id, keyword: 'zebra boots' }),
    );
    expect(made.statusCode, made.body).toBe(201);
    const ok = await call('GET', `${KW}export/?search=zebra`);
    expect(ok.statusCode).toBe(200);
    expect(ok.body.split('\n').filter(Boolean)).toHaveLength(2); // the header and the keyword
  });

  it('a URL over 16 KB, a malformed URL and an over-long path id answer in the envelope', async () => {
    const malformed = await t.request({ method: 'GET', url: `${KW}%zz/`, headers: owner.headers });
    const longId = await t.request({ method: 'GET', url: `${KW}${'1'.repeat(300)}/`, headers: owner.headers });
    for (const res of [malformed, longId]) {
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ success: false, code: 'not_found', request_id: res.headers['x-request-id'] });
    }
    // Node's HTTP parser refuses it before Fastify sees a request: only a real socket shows the answer.
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    const answer = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path: `${KW}?search=${'x'.repeat(20_000)}`, headers: owner.headers },
        (res) => {
          let body = '';
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(400);
    const body = JSON.parse(answer.body);
    expect(body).toMatchObject({ success: false, code: 'validation_error', request_id: answer.headers['x-request-id'] });
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
  });
});

function send(op: Operation, url: string, payload?: string) {
  return t.request({
    method: op.method as 'GET',
    url,
    headers: { ...owner.headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(payload === undefined ? {} : { payload }),
  });
}

const wellFormed = (value: string) => (value as string & { isWellFormed(): boolean }).isWellFormed();
