#!/usr/bin/env node
// What authentication costs: the same kind of detail GET unauthenticated (a public industry), with a JWT and
// with an API key (a site of the caller's account), on Postgres, 32 connections, throttling off.
//
//   npm run bench:auth            # BENCH_ADMIN_URL, BENCH_DURATION, BENCH_CONNECTIONS as in bench/lib.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONNECTIONS, DURATION, json, load, startServer, throwawayDatabase } from './lib.mjs';

async function main() {
  const database = await throwawayDatabase('auth');
  const dataDir = mkdtempSync(join(tmpdir(), 'cf-bench-'));
  const server = await startServer({ DATABASE_URL: database.url, DATA_DIR: dataDir, ACCESS_TOKEN_TTL_SECONDS: '3600' });
  try {
    const signUp = await json(server.base, 'POST', '/api/v1/auth/register/', {
      email: `bench-${Date.now()}@example.com`,
      password: 'benchmark passphrase',
      account_name: 'Bench',
    });
    const jwt = { authorization: `Bearer ${signUp.access}` };
    // A site whose detail is about the size of an industry's, so the runs compare auth, not payload.
    const site = await json(
      server.base,
      'POST',
      '/api/v1/auth/sites/',
      {
        name: 'Trail Running Shoes',
        url: 'https://trail.example',
        description: 'Reviews, guides and comparisons of trail running shoes.',
      },
      jwt,
    );
    const key = await json(server.base, 'POST', '/api/v1/account/api-keys/', { name: 'bench' }, jwt);

    const runs = [
      ['none (public industry detail)', '/api/v1/auth/industries/1/', {}],
      ['JWT (site detail)', `/api/v1/auth/sites/${site.id}/`, jwt],
      ['API key (site detail)', `/api/v1/auth/sites/${site.id}/`, { authorization: `Bearer ${key.key}` }],
    ];
    const results = [];
    for (const [label, path, headers] of runs) {
      console.log(`${label}: GET ${path}`);
      results.push({ label, ...(await load(server.base, path, headers)) });
    }
    const base = results[0].rps;
    console.log(
      `\n${cpus().length} cores, Node ${process.version}, Postgres, ${CONNECTIONS} connections, ${DURATION} s per run\n`,
    );
    console.log('| auth | req/s | p50 ms | p99 ms | bytes/response | cost vs none |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of results) {
      const cost = r === results[0] ? '' : `${Math.round((100 * (base - r.rps)) / base)} %`;
      console.log(`| ${r.label} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.bytes} | ${cost} |`);
    }
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
