#!/usr/bin/env node
// The core benchmark: the public industries list (`?page_size=20`: a count and an ordered page) and the health
// check, served by the real server on PGlite and on Postgres, against pgbench running the list's own SQL on
// the same Postgres database as the ceiling. 32 connections, 10 s per run, throttling off, logs at warn.
//
//   npm run bench                      # Postgres at postgres://postgres@127.0.0.1:5432/postgres (trust auth)
//   BENCH_ADMIN_URL=postgres://... npm run bench
//   BENCH_DURATION=5 npm run bench     # shorter runs
//
// Only the admin URL's server is used: a throwaway database is created for the run and dropped after it.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = 32;
const LIST = '/api/v1/auth/industries/?page_size=20';
const HEALTH = '/api/v1/system/health/';

// The SQL the list runs for one request (as logged by Postgres), for pgbench.
const LIST_SQL = [
  'select count(*) from "auth_industries";',
  'select "id", "name", "slug", "description", "suggested_sectors", "created_at", "updated_at" from "auth_industries" order by "auth_industries"."name" asc, "auth_industries"."id" asc limit 20;',
].join('\n');

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

async function startServer(env) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', THROTTLE_DISABLED: 'true', LOG_LEVEL: 'warn', WORKER: 'false' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`${base}${HEALTH}`).then((r) => r.ok, () => false);
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('the server did not start');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    base,
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

async function load(base, path) {
  // A short warm-up so the first run does not pay for JIT and connection setup.
  await autocannon({ url: `${base}${path}`, connections: CONNECTIONS, duration: 2 });
  const result = await autocannon({ url: `${base}${path}`, connections: CONNECTIONS, duration: DURATION });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0) throw new Error(`${path}: ${bad} failed requests`);
  return { rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99 };
}

function pgbench(url, sqlText) {
  const dir = mkdtempSync(join(tmpdir(), 'cf-pgbench-'));
  const file = join(dir, 'list.sql');
  writeFileSync(file, `${sqlText}\n`);
  const { hostname, port, username, pathname } = new URL(url);
  const args = ['-h', hostname, '-p', port || '5432', '-U', username || 'postgres', '-n', '-c', String(CONNECTIONS), '-j', '2', '-T', String(DURATION), '-f', file, pathname.slice(1)];
  const run = spawnSync('pgbench', args, { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  if (run.status !== 0) throw new Error(`pgbench failed: ${run.stderr || run.error}`);
  const tps = Number(/tps = ([\d.]+)/.exec(run.stdout)?.[1]);
  const latency = Number(/latency average = ([\d.]+) ms/.exec(run.stdout)?.[1]);
  return { tps: Math.round(tps), latency, command: `pgbench ${args.join(' ')}` };
}

async function main() {
  const results = [];
  const dbName = `cf_bench_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'cf-bench-'));
  try {
    console.log(`Postgres (database ${dbName})`);
    const postgres = await startServer({ DATABASE_URL: dbUrl.toString(), DATA_DIR: dataDir });
    try {
      results.push({ database: 'Postgres', route: 'list', ...(await load(postgres.base, LIST)) });
      results.push({ database: 'Postgres', route: 'health', ...(await load(postgres.base, HEALTH)) });
    } finally {
      await postgres.stop();
    }
    console.log('pgbench of the list SQL');
    const ceiling = pgbench(dbUrl.toString(), LIST_SQL);

    console.log('PGlite');
    const pglite = await startServer({ DATABASE_URL: '', DATA_DIR: dataDir });
    try {
      results.push({ database: 'PGlite', route: 'list', ...(await load(pglite.base, LIST)) });
      results.push({ database: 'PGlite', route: 'health', ...(await load(pglite.base, HEALTH)) });
    } finally {
      await pglite.stop();
    }

    console.log(`\n${cpus().length} cores, Node ${process.version}, ${CONNECTIONS} connections, ${DURATION} s per run\n`);
    console.log('| database | route | req/s | p50 ms | p99 ms | list / pgbench |');
    console.log('| --- | --- | ---: | ---: | ---: | ---: |');
    for (const r of results) {
      const ratio = r.route === 'list' ? `${Math.round((100 * r.rps) / ceiling.tps)} %` : '';
      console.log(`| ${r.database} | ${r.route === 'list' ? `GET ${LIST}` : `GET ${HEALTH}`} | ${r.rps} | ${r.p50} | ${r.p99} | ${ratio} |`);
    }
    console.log(`| Postgres | pgbench, the list's SQL | ${ceiling.tps} tps | ${ceiling.latency} avg | | 100 % |`);
    console.log(`\n${ceiling.command}`);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
