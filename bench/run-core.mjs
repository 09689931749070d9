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
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONNECTIONS, DURATION, load, startServer, throwawayDatabase } from './lib.mjs';

const LIST = '/api/v1/auth/industries/?page_size=20';
const HEALTH = '/api/v1/system/health/';

// The SQL the list runs for one request (as logged by Postgres), for pgbench.
const LIST_SQL = [
  'select count(*) from "auth_industries";',
  'select "id", "name", "slug", "description", "suggested_sectors", "created_at", "updated_at" from "auth_industries" order by "auth_industries"."name" asc, "auth_industries"."id" asc limit 20;',
].join('\n');

function pgbench(url, sqlText) {
  const dir = mkdtempSync(join(tmpdir(), 'cf-pgbench-'));
  const file = join(dir, 'list.sql');
  writeFileSync(file, `${sqlText}\n`);
  const { hostname, port, username, pathname } = new URL(url);
  const args = [
    '-h',
    hostname,
    '-p',
    port || '5432',
    '-U',
    username || 'postgres',
    '-n',
    '-c',
    String(CONNECTIONS),
    '-j',
    '2',
    '-T',
    String(DURATION),
    '-f',
    file,
    pathname.slice(1),
  ];
  const run = spawnSync('pgbench', args, { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  if (run.status !== 0) throw new Error(`pgbench failed: ${run.stderr || run.error}`);
  const tps = Number(/tps = ([\d.]+)/.exec(run.stdout)?.[1]);
  const latency = Number(/latency average = ([\d.]+) ms/.exec(run.stdout)?.[1]);
  return { tps: Math.round(tps), latency, command: `pgbench ${args.join(' ')}` };
}

async function main() {
  const results = [];
  const database = await throwawayDatabase('core');
  const dataDir = mkdtempSync(join(tmpdir(), 'cf-bench-'));
  try {
    console.log(`Postgres (database ${database.name})`);
    const postgres = await startServer({ DATABASE_URL: database.url, DATA_DIR: dataDir });
    try {
      results.push({ database: 'Postgres', route: 'list', ...(await load(postgres.base, LIST)) });
      results.push({ database: 'Postgres', route: 'health', ...(await load(postgres.base, HEALTH)) });
    } finally {
      await postgres.stop();
    }
    console.log('pgbench of the list SQL');
    const ceiling = pgbench(database.url, LIST_SQL);

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
      console.log(
        `| ${r.database} | ${r.route === 'list' ? `GET ${LIST}` : `GET ${HEALTH}`} | ${r.rps} | ${r.p50} | ${r.p99} | ${ratio} |`,
      );
    }
    console.log(`| Postgres | pgbench, the list's SQL | ${ceiling.tps} tps | ${ceiling.latency} avg | | 100 % |`);
    console.log(`\n${ceiling.command}`);
  } finally {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
