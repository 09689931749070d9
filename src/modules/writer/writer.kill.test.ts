import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSector, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { type FakeOpenAI, type FakeRequest, startFakeOpenAI } from '../../../test/fake-openai.js';
import { fakeWriter } from '../../../test/fake-writer.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { WRITER_KILL_LIMITS } from '../../../test/job-types.js';
import { until } from '../../../test/wait.js';
import { workerProcesses } from '../../../test/worker-process.js';
import { queryRows } from '../../core/db.js';
import { writerTaskById } from './writer.repository.js';

/**
 * A generation job stopped in the middle of an article, then run again: every article is stored once and
 * charged once, the one being written when it stopped included (written again from the start), the ones
 * stored before it skipped.
 *
 * - On PGlite and Postgres: the in-process worker stops with no grace (its job aborted mid-call and handed
 *   back to the queue) and starts again. PGlite is one process's database, so this is how far it goes there.
 * - On Postgres: a real `worker` process is killed with SIGKILL mid-article; a second one picks the job up
 *   after its expiry (the short limits of WRITER_KILL_LIMITS, given to both this app and the worker).
 */

const GENERATE = '/api/v1/writer/tasks/auto_generate_content/';
const postgres = process.env.TEST_DATABASE_URL;
let t: TestApp;
let fake: FakeOpenAI;
const workers = workerProcesses('test/fixtures/writer-worker.ts');

beforeAll(async () => {
  fake = await startFakeOpenAI();
  // This process enqueues; the workers below (in-process, then spawned) do the work.
  t = await buildTestApp(
    { WORKER: 'false', JOBS_POLL_MS: '50', AI_BASE_URL: fake.url, AI_MAX_RETRIES: '0' },
    { jobLimits: WRITER_KILL_LIMITS },
  );
});
afterAll(async () => {
  workers.killAll();
  await t?.close();
  await fake?.close();
});

const rows = (query: SQL) => queryRows<Record<string, unknown>>(t.database.db, query);

interface Setup {
  owner: SignedUp;
  ids: number[];
  titles: string[];
  balance: number;
}

/** Two 1,600-word tasks (section by section: an outline, five sections and the introduction each). */
async function twoTasks(label: string): Promise<Setup> {
  const owner = await signUp(t);
  const site = await createSite(t, owner);
  const sector = await createSector(t, owner, site.id);
  const titles = [`${label}: first article`, `${label}: second article`];
  const ids = await t.database.db.transaction((tx) =>
    t.app.services.writer.queueTasks(
      tx,
      owner.accountId,
      titles.map((title) => ({ site_id: site.id, sector_id: sector.id, title, word_count_target: 1600 })),
    ),
  );
  const balance = (await t.app.services.billing.balance({ accountId: owner.accountId })) as number;
  return { owner, ids, titles, balance };
}

async function start(setup: Setup): Promise<number> {
  const res = await t.request({ method: 'POST', url: GENERATE, headers: setup.owner.headers, payload: { ids: setup.ids } });
  expect(res.statusCode, res.body).toBe(202);
  return res.json().data.task_id;
}

const writerTask = (setup: Setup, i: number) => writerTaskById(t.database.db, setup.owner.accountId, setup.ids[i] as number);
const sectionCallsFor = (title: string) =>
  fake.chatRequests().filter((r: FakeRequest) => {
    const user: string = r.body?.messages?.[1]?.content ?? '';
    return r.body?.response_format?.json_schema?.name === 'section' && user.includes(`Article: ${title} `);
  }).length;

/** The second article's section call that is never answered while the job runs: the job waits on it, mid-article. */
const HELD_SECTION = 3;

/**
 * Answers as the fake writer does, but holds the second article's third section call: the job is then stopped
 * (or its worker killed) while it waits on that call, mid-article, however slow the machine. A window of
 * answered calls instead (each delayed) let a loaded machine finish the article before the stop landed.
 */
function holdingMidSecondArticle(setup: Setup) {
  const writer = fakeWriter();
  const second = setup.titles[1] as string;
  return (request: FakeRequest) => {
    const user: string = request.body?.messages?.[1]?.content ?? '';
    const isSecondsSection =
      request.body?.response_format?.json_schema?.name === 'section' && user.includes(`Article: ${second} `);
    // This request is already counted: the fake records each one before it asks for the answer.
    if (isSecondsSection && sectionCallsFor(second) === HELD_SECTION) return { delayMs: 600_000, json: {} };
    return writer.respond(request);
  };
}

/** Waits until the first article is stored and the job waits on the second article's held section call. */
async function midSecondArticle(setup: Setup) {
  await until(
    'the second article, mid-way',
    async () => ({ first: (await writerTask(setup, 0))?.status, sections: sectionCallsFor(setup.titles[1] as string) }),
    (v) => v.first === 'completed' && v.sections >= HELD_SECTION,
  );
}

/** Each article stored once, charged once (16 credits each), its events once; the task done. */
async function expectOnce(setup: Setup, taskId: number) {
  const task = await until(
    'the task to finish',
    () => t.app.services.tasks.get({ accountId: setup.owner.accountId, siteIds: null } as never, taskId),
    (row) => ['succeeded', 'failed', 'cancelled'].includes(row.status),
  );
  expect(task.status, JSON.stringify(task.error)).toBe('succeeded');
  expect(task.attempts).toBeGreaterThanOrEqual(2);
  expect(task.result).toMatchObject({ generated: 2, credits: 32 });
  const { accountId } = setup.owner;
  const content = await rows(
    sql`select task_id, count(*)::int as n from writer_content where account_id = ${accountId} group by 1 order by 1`,
  );
  expect(content).toEqual(setup.ids.map((id) => ({ task_id: id, n: 1 })));
  const ledger = await rows(
    sql`select amount, ref from billing_credit_transactions where account_id = ${accountId} and type = 'usage' order by id`,
  );
  expect(ledger).toEqual(setup.ids.map((id) => ({ amount: -16, ref: `task:${taskId}:article:${id}` })));
  expect(await t.app.services.billing.balance({ accountId })).toBe(setup.balance - 32);
  const events = await rows(
    sql`select type, count(*)::int as n from events_events where account_id = ${accountId} and type in ('content.generated', 'credits.debited') group by 1 order by 1`,
  );
  expect(events).toEqual([
    { type: 'content.generated', n: 2 },
    { type: 'credits.debited', n: 2 },
  ]);
  for (const i of [0, 1]) expect(await writerTask(setup, i)).toMatchObject({ status: 'completed', error: null });
}

describe('a generation job stopped mid-article', () => {
  it('in-process: handed back with no grace, run again, each article once', async () => {
    const setup = await twoTasks('Handed back');
    fake.reset();
    fake.respond = holdingMidSecondArticle(setup);
    const { jobs } = t.app.services;
    jobs.startWorkers();
    const taskId = await start(setup);
    await midSecondArticle(setup);
    await jobs.stop(0);
    // Stopped mid-article: the second is neither stored nor failed, and waits for the retry.
    expect(await writerTask(setup, 1)).toMatchObject({ status: 'in_progress', content_id: null });
    fake.respond = fakeWriter().respond;
    await jobs.start();
    jobs.startWorkers();
    await expectOnce(setup, taskId);
    await jobs.stop(1);
    await jobs.start();
  }, 90_000);

  describe.skipIf(!postgres)('a worker process killed with SIGKILL (Postgres)', () => {
    const startWorker = () => workers.start(t, fake.url);

    it('is picked up by another worker after its expiry; each article once', async () => {
      const setup = await twoTasks('Killed');
      fake.reset();
      fake.respond = holdingMidSecondArticle(setup);
      const taskId = await start(setup);
      const first = startWorker();
      await midSecondArticle(setup);
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      expect(await writerTask(setup, 1)).toMatchObject({ status: 'in_progress', content_id: null });
      fake.respond = fakeWriter().respond;
      startWorker();
      await expectOnce(setup, taskId);
    }, 120_000);
  });
});
