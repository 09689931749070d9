#!/usr/bin/env node
// The embedded default's memory: the compiled server (`npm start`, i.e. `node dist/src/server.js`, worker on) on
// PGlite in a fresh DATA_DIR, measured from /proc:
//  1. RSS idle after the first start (a new data folder), then after a restart on the same folder with the anchor's
//     data shape loaded (2 accounts × 5,000 keywords), both 15 s after the server answers;
//  2. RSS under load: the keyword list, search and retrieve with autocannon (BENCH_CONNECTIONS, BENCH_DURATION),
//     sampled every 100 ms; the peak and the last sample of each run, and req/s.
//
//   npm run bench:pglite-memory     # builds first (npm run build); BENCH_IDLE_SECONDS (15)
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { CONNECTIONS, DURATION, freePort, json, ROOT } from './lib.mjs';
import { DRF_SECTORS, drfSectorRows } from './planner-data.mjs';

const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 15);
const mib = (kb) => Math.round(kb / 1024);

function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return mib(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0));
}

async function start(dataDir) {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/src/server.js'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: '',
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      THROTTLE_DISABLED: 'true',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (
      await fetch(`${base}/api/v1/system/health/`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('the server did not start');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    base,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

const idle = () => new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));

async function seed(base) {
  let key = '';
  for (const [index, name] of ['Acme Outdoor', 'Bluebird'].entries()) {
    const signUp = await json(base, 'POST', '/api/v1/auth/register/', {
      email: `${name.toLowerCase().replace(/[^a-z]+/g, '-')}-${Date.now()}@example.com`,
      password: 'benchmark passphrase',
      account_name: name,
    });
    const jwt = { authorization: `Bearer ${signUp.access}` };
    const created = await json(base, 'POST', '/api/v1/account/api-keys/', { name: 'bench' }, jwt);
    if (index === 0) key = created.key;
    const names = Object.keys(DRF_SECTORS);
    for (let s = 0; s < 2; s++) {
      const shop = await json(base, 'POST', '/api/v1/auth/sites/', { name: `${name} site ${s + 1}` }, jwt);
      for (let t = 0; t < 2; t++) {
        const sectorName = names[s * 2 + t];
        const sector = await json(base, 'POST', '/api/v1/auth/sectors/', { site_id: shop.id, name: sectorName }, jwt);
        const rows = drfSectorRows(sectorName, 1250, 42 + index * 10 + s * 2 + t);
        await json(base, 'POST', '/api/v1/planner/keywords/import/', { site_id: shop.id, sector_id: sector.id, rows }, jwt);
      }
    }
  }
  return key;
}

async function loaded(server, path, headers) {
  let peak = 0;
  let last = 0;
  const sampler = setInterval(() => {
    last = rssOf(server.pid);
    peak = Math.max(peak, last);
  }, 100);
  try {
    const options = { url: `${server.base}${path}`, connections: CONNECTIONS, headers };
    await autocannon({ ...options, duration: 2 });
    const result = await autocannon({ ...options, duration: DURATION });
    const bad = result.non2xx + result.errors + result.timeouts;
    if (bad > 0) throw new Error(`${path}: ${bad} failed requests`);
    return { rps: Math.round(result.requests.average), p99: result.latency.p99, peak, last };
  } finally {
    clearInterval(sampler);
  }
}

async function main() {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  const dataDir = join(mkdtempSync(join(tmpdir(), 'cf-pglite-mem-')), 'data');
  const rows = [];
  try {
    let server = await start(dataDir);
    await idle();
    rows.push(['idle, first start (new data folder)', `${rssOf(server.pid)} MiB`]);
    const key = await seed(server.base);
    await server.stop();

    server = await start(dataDir);
    await idle();
    rows.push(['idle, restarted on 10,000 keywords', `${rssOf(server.pid)} MiB`]);
    const headers = { authorization: `Bearer ${key}` };
    const top = await json(server.base, 'GET', '/api/v1/planner/keywords/?page_size=1&ordering=-volume', undefined, headers);
    const paths = {
      list: '/api/v1/planner/keywords/?page=1&page_size=20&ordering=-volume',
      search: '/api/v1/planner/keywords/?page=1&page_size=20&search=shoe',
      retrieve: `/api/v1/planner/keywords/${top.results[0].id}/`,
    };
    for (const [name, path] of Object.entries(paths)) {
      const r = await loaded(server, path, headers);
      rows.push([`under load: ${name} (${r.rps} req/s, p99 ${r.p99} ms)`, `peak ${r.peak} MiB, at the end ${r.last} MiB`]);
    }
    await server.stop();
  } finally {
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  }
  console.log(
    `\n${cpus().length} cores, Node ${process.version}, PGlite (node dist/src/server.js, worker on), ${CONNECTIONS} connections, ${DURATION} s per run\n`,
  );
  console.log('| server on PGlite | RSS |\n| --- | ---: |');
  for (const [what, value] of rows) console.log(`| ${what} | ${value} |`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
