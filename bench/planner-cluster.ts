// One lexical clustering run of a sector, as a worker runs it (load the new keywords, cluster, store the
// clusters and map the keywords), in a process of its own so its time and peak memory are its alone.
//   tsx bench/planner-cluster.ts <database url> <account id> <site id> <sector id>   → one JSON line
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createChanges } from '../src/core/changes.js';
import { loadConfig } from '../src/core/config.js';
import { connect } from '../src/core/db.js';
import { createJobs } from '../src/core/jobs.js';
import { createSiteDirectory } from '../src/modules/auth/auth.sites.js';
import { plannerJobs } from '../src/modules/planner/planner.jobs.js';

const [databaseUrl, account, site, sector] = process.argv.slice(2);
if (!databaseUrl || !account || !site || !sector)
  throw new Error('usage: planner-cluster.ts <database url> <account> <site> <sector>');
const config = loadConfig({ ...process.env, DATABASE_URL: databaseUrl, WORKER: 'false', LOG_LEVEL: 'silent' });
const database = await connect({ databaseUrl, poolSize: 2, pgliteDir: 'memory://' });
const log = pino({ level: 'silent' });
// Never started: the handler runs inline, with no workers to wake.
const jobs = createJobs({ config, database, log, changes: createChanges({ database, log }) });
jobs.register(
  plannerJobs({
    ai: () => {
      throw new Error('the lexical benchmark uses no AI');
    },
    // Clustering reads names only; no plan cap is consulted.
    sites: createSiteDirectory(async () => undefined),
  }),
);
const accountId = Number(account);
const baseline = process.memoryUsage().rss;
const started = performance.now();
const result = (await jobs.runHandler(
  'planner.cluster_lexical',
  { account_id: accountId, actor_id: null, site_id: Number(site), sector_id: Number(sector) },
  { jobId: randomUUID(), accountId },
)) as { clusters_created: number; keywords_clustered: number; keywords_considered: number };
const seconds = (performance.now() - started) / 1000;
// maxRSS is in KiB: the most this process ever held, the runtime included.
const peakMiB = process.resourceUsage().maxRSS / 1024;
console.log(
  JSON.stringify({ seconds, peak_rss_mib: Math.round(peakMiB), baseline_rss_mib: Math.round(baseline / 1048576), ...result }),
);
await database.close();
