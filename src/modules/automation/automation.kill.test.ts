import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSector, createSite, rowsOf, type SignedUp, signUp } from '../../../test/factories.js';
import { type FakeOpenAI, type FakeRequest, startFakeOpenAI } from '../../../test/fake-openai.js';
import { PIPELINE_KEYWORDS, pipelineResponder } from '../../../test/fake-pipeline.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { AUTOMATION_KILL_LIMITS as LIMITS } from '../../../test/job-types.js';
import { until } from '../../../test/wait.js';
import { workerProcesses } from '../../../test/worker-process.js';

/**
 * A run stopped in the middle of an article, then carried on: every article is stored and charged once (the
 * one being written when it stopped included, written again under the same unit key), every idea once, and
 * the run's credits are exactly what the ledger lost.
 *
 * - On PGlite and Postgres: the in-process worker stops with no grace (the run's job handed back mid-article)
 *   and starts again.
 * - On Postgres: a real `worker` process is killed with SIGKILL mid-article; the run's heartbeat stops, the
 *   stalled-run check hands it to a new task, and a second worker process finishes it.
 */

const A = '/api/v1/automation';
const postgres = process.env.TEST_DATABASE_URL;
let t: TestApp;
let fake: FakeOpenAI;
const workers = workerProcesses('test/fixtures/automation-worker.ts');
/**
 * The articles in the order their first section was asked for. While `holding`, the second article's section
 * call is never answered, so the stop (or the SIGKILL) always lands mid-article, however fast the machine.
 */
const sectionTitles: string[] = [];
let holding = false;

function respond(pipeline: ReturnType<typeof pipelineResponder>) {
  return (request: FakeRequest) => {
    if (request.body?.response_format?.json_schema?.name === 'section') {
      const user: string = request.body?.messages?.[1]?.content ?? '';
      const title = /Article: (.*?) \(/.exec(user)?.[1] ?? /Article: ([^\n]*)/.exec(user)?.[1] ?? user;
      if (!sectionTitles.includes(title)) sectionTitles.push(title);
      if (holding && sectionTitles.indexOf(title) === 1) return { delayMs: 600_000, json: {} };
    }
    return pipeline.respond(request);
  };
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
  fake.respond = respond(pipelineResponder({ words: () => 1600 }));
  t = await buildTestApp(
    { WORKER: 'false', JOBS_POLL_MS: '50', AI_BASE_URL: fake.url, AI_MAX_RETRIES: '0' },
    { jobLimits: LIMITS },
  );
});
afterAll(async () => {
  workers.killAll();
  await t?.close();
  await fake?.close();
});

interface Setup {
  owner: SignedUp;
  runId: number;
  balance: number;
}

/** Two 1,600-word articles from two clusters' ideas, no images: 2 × 2 credits of ideas, 2 × 16 of articles. */
async function startRun(): Promise<Setup> {
  const owner = await signUp(t);
  const headers = owner.headers;
  const settings = await t.request({
    method: 'PATCH',
    url: '/api/v1/system/settings/',
    headers,
    payload: { default_word_count: 1600 },
  });
  expect(settings.statusCode, settings.body).toBe(200);
  const site = await createSite(t, owner);
  const sector = await createSector(t, owner, site.id);
  await t.request({
    method: 'POST',
    url: '/api/v1/planner/keywords/import/',
    headers,
    payload: { site_id: site.id, sector_id: sector.id, rows: PIPELINE_KEYWORDS },
  });
  const config = await t.request({
    method: 'PATCH',
    url: `${A}/configs/${site.id}/`,
    headers,
    payload: {
      ideas_per_cluster: 1,
      stages: { ideas: { batch_size: 2 }, image_prompts: { enabled: false }, images: { enabled: false } },
    },
  });
  expect(config.statusCode, config.body).toBe(200);
  const balance = (await t.app.services.billing.balance({ accountId: owner.accountId })) as number;
  const res = await t.request({ method: 'POST', url: `${A}/run_now/`, headers, payload: { site_id: site.id } });
  expect(res.statusCode, res.body).toBe(202);
  return { owner, runId: res.json().data.run.id, balance };
}

const articles = (setup: Setup) =>
  rowsOf<{ task_id: number; n: number }>(
    t,
    sql`select task_id, count(*)::int as n from writer_content where account_id = ${setup.owner.accountId} group by 1 order by 1`,
  );
/** Waits until the first article is stored and the second one's section call is held. */
async function midSecondArticle(setup: Setup) {
  await until(
    'the second article, mid-way',
    async () => ({ stored: await articles(setup), sections: sectionTitles.length }),
    (v) => v.stored.length === 1 && v.sections >= 2,
  );
  expect((await articles(setup)).map((r) => r.n)).toEqual([1]);
}

/** Each article once, each idea and article charged once, the run's credits what the balance lost. */
async function expectOnce(setup: Setup) {
  const { accountId } = setup.owner;
  const run = await until(
    'the run to finish',
    async () => (await t.request({ method: 'GET', url: `${A}/runs/${setup.runId}/`, headers: setup.owner.headers })).json().data,
    (r) => ['completed', 'failed', 'cancelled'].includes(r.status),
  );
  expect(run.status, JSON.stringify(run)).toBe('completed');
  expect(run.stages.ideas).toMatchObject({ processed: 2, created: 2, credits: 4 });
  expect(run.stages.articles).toMatchObject({ processed: 2, created: 2, credits: 32, errors: [] });
  expect((await articles(setup)).map((r) => r.n)).toEqual([1, 1]);
  const ledger = await rowsOf<{ amount: number; n: number }>(
    t,
    sql`select amount, count(*)::int as n from billing_credit_transactions where account_id = ${accountId} and type = 'usage' group by 1 order by 1`,
  );
  expect(ledger).toEqual([
    { amount: -16, n: 2 },
    { amount: -2, n: 2 },
  ]);
  expect(run.credits_used).toBe(36);
  expect(await t.app.services.billing.balance({ accountId })).toBe(setup.balance - 36);
  const events = await rowsOf<{ type: string; n: number }>(
    t,
    sql`select type, count(*)::int as n from events_events where account_id = ${accountId} and type in ('content.generated', 'ideas.generated', 'automation.run.completed') group by 1 order by 1`,
  );
  expect(events).toEqual([
    { type: 'automation.run.completed', n: 1 },
    { type: 'content.generated', n: 2 },
    { type: 'ideas.generated', n: 2 },
  ]);
}

describe('a run stopped mid-article', () => {
  it('in-process: handed back with no grace, run again, each article once', async () => {
    const { jobs } = t.app.services;
    sectionTitles.length = 0;
    holding = true;
    jobs.startWorkers();
    const setup = await startRun();
    await midSecondArticle(setup);
    await jobs.stop(0);
    holding = false;
    await jobs.start();
    jobs.startWorkers();
    await expectOnce(setup);
    await jobs.stop(1);
    await jobs.start();
  }, 120_000);

  describe.skipIf(!postgres)('a worker process killed with SIGKILL (Postgres)', () => {
    const startWorker = () => workers.start(t, fake.url);

    it('is carried on by a new task once its heartbeat stops; each article once, the ledger exact', async () => {
      sectionTitles.length = 0;
      holding = true;
      const setup = await startRun();
      const first = startWorker();
      await midSecondArticle(setup);
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      holding = false;
      // What the schedule check does every minute (with a two-minute threshold), here at once.
      const recovered = await until(
        'the stalled run to be taken over',
        () => t.app.services.automation.recoverStalled(1),
        (n) => n === 1,
      );
      expect(recovered).toBe(1);
      startWorker();
      await expectOnce(setup);
      const logs = await rowsOf<{ level: string }>(
        t,
        sql`select level from automation_run_logs where run_id = ${setup.runId} and level = 'warning'`,
      );
      expect(logs).toHaveLength(1);
    }, 150_000);
  });
});
