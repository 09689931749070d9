import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/core/config.js';
import { connect, migrate } from '../src/core/db.js';
import { record } from '../src/core/events.js';

/**
 * Outgoing webhooks, end to end on a throwaway Postgres database: events recorded as a module records them, the
 * trigger's fan-out, the dispatcher, the queue, the signed POST, and a local receiver that verifies every
 * signature with the `standardwebhooks` package.
 *  1. Throughput: a backlog of events, delivered to one subscription (one request at a time, in order), then to
 *     ten subscriptions at once: deliveries per second until the last one arrives.
 *  2. Delay at 100 events/s: one event every 10 ms for BENCH_SECONDS, each in its own transaction; the delay from
 *     its commit to its arrival at the receiver, p50 and p99.
 * `npm run bench:webhooks` (BENCH_PG_URL, default the local server; BENCH_EVENTS, BENCH_SECONDS).
 */

const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const backlog = Number(process.env.BENCH_EVENTS ?? 2000);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);

const name = `cf_bench_webhooks_${Date.now().toString(36)}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE "${name}"`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;

// The receiver: verifies each request, remembers when each (subscription, event) first arrived.
const secrets = new Map<string, Webhook>();
const arrivals = new Map<string, number>();
let verified = 0;
let refused = 0;
let duplicates = 0;
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (c: Buffer) => chunks.push(c));
  request.on('end', () => {
    const path = request.url ?? '/';
    const hook = secrets.get(path);
    try {
      hook?.verify(Buffer.concat(chunks).toString('utf8'), request.headers as Record<string, string>);
      verified++;
      const key = `${path} ${request.headers['webhook-id']}`;
      if (arrivals.has(key)) duplicates++;
      else arrivals.set(key, performance.now());
      response.writeHead(204).end();
    } catch {
      refused++;
      response.writeHead(400).end();
    }
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

const config = loadConfig({
  NODE_ENV: 'production',
  SECRET_KEY: 'bench-secret-key-that-is-long-enough-to-sign-tokens',
  INTEGRATION_KEY: 'YmVuY2gtaW50ZWdyYXRpb24ta2V5LTMyLWJ5dGVzISE=',
  DATABASE_URL: url.toString(),
  DATA_DIR: mkdtempSync(join(tmpdir(), 'cf-bench-')),
  LOG_LEVEL: 'warn',
  THROTTLE_DISABLED: 'true',
  WORKER: 'true',
  // The receiver is on loopback.
  WEBHOOK_ALLOW_PRIVATE: 'true',
});
const database = await connect({ databaseUrl: config.databaseUrl, poolSize: 20, pgliteDir: 'memory://' });
await migrate(database);
const app = await buildApp({ config, database, logger: process.env.BENCH_LOG ? { level: 'warn' } : false });
await app.ready();

const register = await app.inject({
  method: 'POST',
  url: '/api/v1/auth/register/',
  payload: { email: `bench-${Date.now()}@example.com`, password: 'correct horse battery staple', account_name: 'bench' },
});
const { access, account } = register.json().data as { access: string; account: { id: number } };
const accountId = account.id;

async function subscribe(path: string, types: string[]) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/events/subscriptions/',
    headers: { authorization: `Bearer ${access}` },
    payload: { url: `${receiverUrl}${path}`, event_types: types },
  });
  if (res.statusCode !== 201) throw new Error(`subscribe: ${res.statusCode} ${res.body}`);
  secrets.set(path, new Webhook(res.json().data.secret));
}

const emit = (type: string, count = 1) =>
  database.db.transaction((tx) =>
    record(
      tx,
      ...Array.from({ length: count }, (_, n) => ({
        account_id: accountId,
        type,
        source_agent: 'worker' as const,
        payload: { n },
      })),
    ),
  );

async function waitForArrivals(prefix: string, count: number, limitMs: number) {
  const started = performance.now();
  const seen = () => [...arrivals.keys()].filter((k) => k.startsWith(`${prefix} `)).length;
  while (seen() < count) {
    if (performance.now() - started > limitMs) throw new Error(`${prefix}: ${seen()} of ${count} arrived in ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function throughput(label: string, type: string, paths: string[], events: number) {
  const started = performance.now();
  for (let done = 0; done < events; done += 500) await emit(type, Math.min(500, events - done));
  for (const path of paths) await waitForArrivals(path, events, 600_000);
  const ms = performance.now() - started;
  const total = events * paths.length;
  console.log(`${label}: ${total} deliveries in ${(ms / 1000).toFixed(1)} s = ${Math.round((total / ms) * 1000)} deliveries/s`);
}

await subscribe('/one', ['backlog.one']);
await throughput('1 subscription', 'backlog.one', ['/one'], backlog);
const ten = Array.from({ length: 10 }, (_, i) => `/ten/${i}`);
for (const path of ten) await subscribe(path, ['backlog.ten']);
await throughput('10 subscriptions', 'backlog.ten', ten, Math.round(backlog / 10));

// The delay at 100 events/s, to one subscription.
await subscribe('/live', ['live.*']);
const committed = new Map<number, number>();
const total = seconds * 100;
const startedAt = performance.now();
// Each tick's transaction starts on schedule, whether or not the last one has committed (a busy database must
// not slow the rate down).
const ticks: Promise<void>[] = [];
for (let i = 0; i < total; i++) {
  const wait = startedAt + i * 10 - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  ticks.push(
    emit('live.tick').then(([id]) => {
      committed.set(id as number, performance.now());
    }),
  );
}
await Promise.all(ticks);
const achieved = total / ((performance.now() - startedAt) / 1000);
await waitForArrivals('/live', total, 120_000);
const delays = [...committed].map(([id, at]) => (arrivals.get(`/live ${id}`) ?? Number.NaN) - at).sort((a, b) => a - b);
const pct = (p: number) => delays[Math.min(delays.length - 1, Math.floor((p / 100) * delays.length))] ?? Number.NaN;
console.log(
  `delay at ${achieved.toFixed(0)} events/s over ${seconds} s (${total} events): p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, max ${(delays.at(-1) ?? 0).toFixed(1)} ms`,
);
console.log(`receiver: ${verified} verified, ${refused} refused, ${duplicates} duplicates`);
// What the delivery log says of the attempts that did not succeed (a retry is a duplicate at the receiver).
const failures = (await database.db.execute(
  sql`select coalesce(error, '') as error, count(*)::int as n from events_delivery_attempts where not succeeded group by 1`,
)) as unknown as { rows: { error: string; n: number }[] };
for (const row of failures.rows) console.log(`failed attempts: ${row.n} × ${row.error}`);

await app.close();
await database.close();
receiver.close();
await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
await admin.end();
