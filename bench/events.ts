import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/core/config.js';
import { connect, migrate } from '../src/core/db.js';

/**
 * The events feed's page time as the log grows: 10,000 then 1,000,000 events in one account (plus another
 * account's, interleaved), read over HTTP with autocannon: the first page, a page deep in the feed (cursor near
 * the oldest event), and a filtered page (`type=`). A flat feed shows the same latency at both sizes.
 * `npm run bench:events` (BENCH_PG_URL, default the local server; BENCH_SECONDS per run).
 */

const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const duration = Number(process.env.BENCH_SECONDS ?? 8);
const cursorTo = (id: number) => Buffer.from(`a${id}`).toString('base64url');

const name = `cf_bench_events_${Date.now().toString(36)}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE "${name}"`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;
const config = loadConfig({
  NODE_ENV: 'production',
  SECRET_KEY: 'bench-secret-key-that-is-long-enough-to-sign-tokens',
  INTEGRATION_KEY: 'YmVuY2gtaW50ZWdyYXRpb24ta2V5LTMyLWJ5dGVzISE=',
  DATABASE_URL: url.toString(),
  DATA_DIR: mkdtempSync(join(tmpdir(), 'cf-bench-')),
  LOG_LEVEL: 'warn',
  THROTTLE_DISABLED: 'true',
  WORKER: 'false',
});
const database = await connect({ databaseUrl: config.databaseUrl, poolSize: 10, pgliteDir: 'memory://' });
await migrate(database);
const app = await buildApp({ config, database, logger: false });
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address() as { port: number };
const base = `http://127.0.0.1:${address.port}`;

async function signUp(label: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/register/',
    payload: { email: `${label}-${Date.now()}@example.com`, password: 'correct horse battery staple', account_name: label },
  });
  if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`);
  const data = res.json().data;
  return { accountId: data.account.id as number, token: data.access as string };
}
const owner = await signUp('bench');
const other = await signUp('other');

/** Grows the log to `size` events for the owner, with as many for another account interleaved. */
async function growTo(size: number) {
  const { rows } = (await database.db.execute(
    sql`select count(*)::int as n from events_events where account_id = ${owner.accountId}`,
  )) as unknown as { rows: { n: number }[] };
  const missing = size - (rows[0]?.n ?? 0);
  const types = ['keywords.imported', 'content.generated', 'content.published', 'credits.debited'];
  for (let done = 0; done < missing; done += 100_000) {
    const batch = Math.min(100_000, missing - done);
    await database.db.execute(sql`
      insert into events_events (account_id, type, source_agent, object_type, object_id, payload)
      select case when g % 2 = 0 then ${owner.accountId}::int else ${other.accountId}::int end,
             (${sql.raw(`array['${types.join("','")}']`)})[1 + (g / 2) % 4], 'worker', 'content', g, jsonb_build_object('n', g)
      from generate_series(1, ${batch * 2}) g`);
  }
  await database.db.execute(sql`analyze events_events`);
}

async function measure(path: string) {
  const result = await autocannon({
    url: `${base}${path}`,
    connections: 10,
    duration,
    headers: { authorization: `Bearer ${owner.token}` },
  });
  if (result.non2xx > 0) throw new Error(`${path}: ${result.non2xx} non-2xx answers`);
  return { rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99 };
}

// Warm-up (discarded): the JIT and the connection pool, so the first measured run is not the slow one.
await autocannon({
  url: `${base}/api/v1/events/?page_size=20`,
  connections: 10,
  duration: 3,
  headers: { authorization: `Bearer ${owner.token}` },
});

const lines: string[] = [];
for (const size of [10_000, 1_000_000]) {
  await growTo(size);
  const { rows } = (await database.db.execute(
    sql`select min(id)::int as low from events_events where account_id = ${owner.accountId}`,
  )) as unknown as { rows: { low: number }[] };
  const deep = cursorTo((rows[0]?.low ?? 0) + 400);
  for (const [label, path] of [
    ['first page', '/api/v1/events/?page_size=20'],
    ['deep page', `/api/v1/events/?page_size=20&cursor=${deep}`],
    ['type filter', '/api/v1/events/?page_size=20&type=content.published'],
  ] as const) {
    const r = await measure(path);
    const line = `${size.toLocaleString('en')} events, ${label}: ${r.rps} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms`;
    lines.push(line);
    console.log(line);
  }
}
console.log(
  `machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; autocannon 10 connections, ${duration} s per run`,
);

await app.close();
await database.close();
await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
await admin.end();
process.exit(0);
