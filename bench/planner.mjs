#!/usr/bin/env node
// The planner benchmark, on Postgres, everything through the real server (a child process):
//  1. the keyword list (`?ordering=-volume&page_size=20` and `?search=shoe`) on the anchor's data shape
//     (2 accounts × 2 sites × 2 sectors × 1,250 keywords; the key's account sees 5,000), with autocannon and
//     with the anchor's own wrk script, then the DRF anchor with the same script, same data, same session;
//  2. import of 50,000 keywords (a Semrush-layout CSV, multipart), wall time;
//  3. lexical clustering of 10,000 and of 100,000 keywords (a worker-like process each: time, peak RSS).
//
//   npm run bench:planner      # BENCH_ADMIN_URL, BENCH_DURATION, BENCH_CONNECTIONS as in bench/lib.mjs;
//                              # DRF_DIR (default ../shared/peers/drf; if it is not running there, a copy in
//                              # the temp folder is started with its start.sh and left running),
//                              # BENCH_SKIP_DRF=1, BENCH_SKIP_CLUSTER_100K=1, BENCH_LISTS_ONLY=1 for shorter runs.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CONNECTIONS, DURATION, json as jsonOnce, load, ROOT, startServer, throwawayDatabase } from './lib.mjs';
import { DRF_SECTORS, drfSectorRows, familyRows, semrushCsv } from './planner-data.mjs';

const DRF_DIR = resolve(ROOT, process.env.DRF_DIR ?? '../shared/peers/drf');

/**
 * Once more when the server closed an idle keep-alive socket just as fetch reused it (after a long load run
 * the client's pooled sockets outlive the server's keep-alive timeout).
 */
async function retried(call) {
  try {
    return await call();
  } catch (error) {
    if (error?.cause?.code !== 'UND_ERR_SOCKET') throw error;
    return call();
  }
}
const json = (...args) => retried(() => jsonOnce(...args));

async function upload(...args) {
  return retried(() => uploadOnce(...args));
}

async function uploadOnce(base, headers, siteId, sectorId, csv) {
  const form = new FormData();
  form.set('site_id', String(siteId));
  form.set('sector_id', String(sectorId));
  form.set('file', new Blob([csv], { type: 'text/csv' }), 'semrush.csv');
  const started = performance.now();
  const res = await fetch(`${base}/api/v1/planner/keywords/import/`, { method: 'POST', headers, body: form });
  const body = await res.json();
  if (!res.ok) throw new Error(`import: ${res.status} ${JSON.stringify(body)}`);
  return { seconds: (performance.now() - started) / 1000, ...body.data, errors: body.data.errors.length };
}

async function account(base, name) {
  const signUp = await json(base, 'POST', '/api/v1/auth/register/', {
    email: `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${Date.now()}@example.com`,
    password: 'benchmark passphrase',
    account_name: name,
  });
  const jwt = { authorization: `Bearer ${signUp.access}` };
  const key = await json(base, 'POST', '/api/v1/account/api-keys/', { name: 'bench' }, jwt);
  return { jwt, key: key.key, accountId: signUp.account.id };
}

async function sector(base, jwt, siteId, name) {
  return json(base, 'POST', '/api/v1/auth/sectors/', { site_id: siteId, name }, jwt);
}

function cluster(databaseUrl, ids) {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/planner-cluster.ts', databaseUrl, ...ids.map(String)], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const { cluster_ids: _ids, ...result } = JSON.parse(out.trim().split('\n').pop());
  return result;
}

/**
 * Where the anchor runs: its own folder when it is already running there, else a copy in the temp folder (its
 * start.sh and bench.sh write run/ beside themselves, and shared/ is read-only), started if down.
 */
function anchorDir() {
  if (existsSync(join(DRF_DIR, 'run/gunicorn.pid'))) return DRF_DIR;
  const copy = join(tmpdir(), 'cf-drf-anchor');
  if (!existsSync(join(copy, 'run/gunicorn.pid'))) {
    rmSync(copy, { recursive: true, force: true });
    cpSync(DRF_DIR, copy, { recursive: true });
    chmodSync(copy, 0o755);
    execFileSync('./start.sh', [], { cwd: copy, stdio: 'inherit' });
  }
  return copy;
}

/** The anchor's wrk script against a server: list, search, retrieve. */
function wrk(drfDir, port, apiKey) {
  const run = spawnSync('./bench.sh', [], {
    cwd: drfDir,
    encoding: 'utf8',
    env: {
      ...process.env,
      PORT: String(port),
      API_KEY: apiKey,
      SEARCH: 'shoe',
      CONNS: String(CONNECTIONS),
      DURATION: `${DURATION}s`,
    },
  });
  if (run.status !== 0) throw new Error(`bench.sh: ${run.stderr}`);
  const rows = {};
  for (const line of run.stdout.split('\n')) {
    const cells = line.trim().split(/\s+/);
    if (['list', 'search', 'retrieve'].includes(cells[0]))
      rows[cells[0]] = { rps: Number(cells[1]), p50: Number(cells[2]), p99: Number(cells[4]), errors: Number(cells[5]) };
  }
  return rows;
}

/** The list's table: autocannon, then wrk for us and the anchor in the same run, with the ratios. */
function printLists(list, search, matches, ours, anchor) {
  console.log(`\nKeyword list, 5,000 keywords visible to the key (10,000 in the table); search=shoe matches ${matches}:\n`);
  console.log(
    '| case | tool | ours req/s | ours p99 ms | DRF req/s | DRF p99 ms | ratio |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  );
  console.log(`| list ordering=-volume | autocannon | ${list.rps} | ${list.p99} | | | |`);
  console.log(`| list search=shoe | autocannon | ${search.rps} | ${search.p99} | | | |`);
  if (ours && anchor) {
    for (const c of ['list', 'search', 'retrieve']) {
      console.log(
        `| ${c} | wrk -t2 -c${CONNECTIONS} -d${DURATION}s | ${ours[c].rps} | ${ours[c].p99} | ${anchor[c].rps} | ${anchor[c].p99} | ${(ours[c].rps / anchor[c].rps).toFixed(1)}× |`,
      );
    }
  }
}

async function main() {
  const database = await throwawayDatabase('planner');
  const dataDir = mkdtempSync(join(tmpdir(), 'cf-bench-'));
  const server = await startServer({ DATABASE_URL: database.url, DATA_DIR: dataDir, ACCESS_TOKEN_TTL_SECONDS: '3600' });
  const port = Number(new URL(server.base).port);
  const report = [];
  try {
    // 1. The list, first, while the table holds only the anchor's data shape: two accounts, each 2 sites × 2 sectors × 1,250 keywords.
    let key = '';
    for (const [index, name] of ['Acme Outdoor', 'Bluebird'].entries()) {
      const who = await account(server.base, name);
      if (index === 0) key = who.key;
      const names = Object.keys(DRF_SECTORS);
      for (let s = 0; s < 2; s++) {
        const shop = await json(server.base, 'POST', '/api/v1/auth/sites/', { name: `${name} site ${s + 1}` }, who.jwt);
        for (let t = 0; t < 2; t++) {
          const sectorName = names[s * 2 + t];
          const sec = await sector(server.base, who.jwt, shop.id, sectorName);
          await json(
            server.base,
            'POST',
            '/api/v1/planner/keywords/import/',
            { site_id: shop.id, sector_id: sec.id, rows: drfSectorRows(sectorName, 1250, 42 + index * 10 + s * 2 + t) },
            who.jwt,
          );
        }
      }
    }
    const auth = { authorization: `Bearer ${key}` };
    const list = await load(server.base, '/api/v1/planner/keywords/?page=1&page_size=20&ordering=-volume', auth);
    const search = await load(server.base, '/api/v1/planner/keywords/?page=1&page_size=20&search=shoe', auth);
    const matches = (await json(server.base, 'GET', '/api/v1/planner/keywords/?page_size=1&search=shoe', undefined, auth)).count;
    console.log('autocannon list', list, 'search', search, `(${matches} matches)`);

    let ours = null;
    let anchor = null;
    if (process.env.BENCH_SKIP_DRF !== '1' && existsSync(join(DRF_DIR, 'bench.sh'))) {
      const drfDir = anchorDir();
      ours = wrk(drfDir, port, key);
      const drfKey = readFileSync(join(drfDir, 'run/api_keys.txt'), 'utf8').split('\n')[0].split(' ')[1];
      anchor = wrk(drfDir, 8001, drfKey);
      console.log('wrk ours', ours, 'DRF', anchor);
    }

    if (process.env.BENCH_LISTS_ONLY === '1') {
      printLists(list, search, matches, ours, anchor);
      return;
    }
    // 2. Import.
    const importer = await account(server.base, 'Importer');
    const site = await json(server.base, 'POST', '/api/v1/auth/sites/', { name: 'Outdoor shop' }, importer.jwt);
    const s50 = await sector(server.base, importer.jwt, site.id, 'Import 50k');
    const imported = await upload(server.base, importer.jwt, site.id, s50.id, semrushCsv(familyRows(50_000, 1)));
    console.log('import 50,000 rows', imported);
    report.push(
      `| import 50,000 rows (Semrush CSV, ${(semrushCsv(familyRows(50_000, 1)).length / 1048576).toFixed(1)} MiB, multipart) | ${imported.seconds.toFixed(2)} s | created ${imported.created} |`,
    );

    // 3. Clustering (10,000 in its own sector; 100,000 = two more imports into another).
    const s10 = await sector(server.base, importer.jwt, site.id, 'Cluster 10k');
    await upload(server.base, importer.jwt, site.id, s10.id, semrushCsv(familyRows(10_000, 2)));
    const c10 = cluster(database.url, [importer.accountId, site.id, s10.id]);
    console.log('cluster 10,000', c10);
    report.push(
      `| lexical clustering, 10,000 keywords (load, cluster, store) | ${c10.seconds.toFixed(2)} s, peak RSS ${c10.peak_rss_mib} MiB | ${c10.clusters_created} clusters, ${c10.keywords_clustered} keywords clustered |`,
    );
    if (process.env.BENCH_SKIP_CLUSTER_100K !== '1') {
      // An account of its own: the free plan allows 100,000 keywords per account.
      const big = await account(server.base, 'Big');
      const bigSite = await json(server.base, 'POST', '/api/v1/auth/sites/', { name: 'Big shop' }, big.jwt);
      const s100 = await sector(server.base, big.jwt, bigSite.id, 'Cluster 100k');
      const rows = familyRows(100_000, 3);
      await upload(server.base, big.jwt, bigSite.id, s100.id, semrushCsv(rows.slice(0, 50_000)));
      await upload(server.base, big.jwt, bigSite.id, s100.id, semrushCsv(rows.slice(50_000)));
      const c100 = cluster(database.url, [big.accountId, bigSite.id, s100.id]);
      console.log('cluster 100,000', c100);
      report.push(
        `| lexical clustering, 100,000 keywords (load, cluster, store) | ${c100.seconds.toFixed(2)} s, peak RSS ${c100.peak_rss_mib} MiB | ${c100.clusters_created} clusters, ${c100.keywords_clustered} keywords clustered |`,
      );
    }

    console.log(
      `\n${cpus().length} cores, Node ${process.version}, Postgres, ${CONNECTIONS} connections, ${DURATION} s per HTTP run\n`,
    );
    console.log('| what | time / memory | result |\n| --- | ---: | --- |');
    for (const line of report) console.log(line);
    printLists(list, search, matches, ours, anchor);
  } finally {
    await server.stop();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
