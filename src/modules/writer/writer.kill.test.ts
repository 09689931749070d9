import { type ChildProcess, spawn } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSector, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { type FakeOpenAI, type FakeRequest, startFakeOpenAI } from '../../../test/fake-openai.js';
import { fakeWriter } from '../../../test/fake-writer.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { WRITER_KILL_LIMITS } from '../../../test/job-types.js';
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
const children: ChildProcess[] = [];

beforeAll(async () => {
  fake = await startFakeOpenAI();
  // This process enqueues; the workers below (in-process, then spawned) do the work.
  t = await buildTestApp(
    { WORKER: 'false', JOBS_POLL_MS: '50', AI_BASE_URL: fake.url, AI_MAX_RETRIES: '0' },
    { jobLimits: WRITER_KILL_LIMITS },
  );
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await t?.close();
  await fake?.close();
});

async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const rows = async (query: ReturnType<typeof sql>) =>
  ((await t.database.db.execute(query)) as unknown as { rows: Record<string, unknown>[] }).rows;

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

/** Waits until the first article is stored and the second is being written, two sections in. */
async function midSecondArticle(setup: Setup) {
  await until(
    'the second article, mid-way',
    async () => ({ first: (await writerTask(setup, 0))?.status, sections: sectionCallsFor(setup.titles[1] as string) }),
    (v) => v.first === 'completed' && v.sections >= 2,
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
    fake.respond = fakeWriter({ delayMs: 150 }).respond;
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
    function startWorker(): ChildProcess {
      const databaseUrl = (t.database.pool as unknown as { options: { connectionString: string } }).options.connectionString;
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/writer-worker.ts'], {
        env: {
          ...process.env,
          NODE_ENV: 'test',
          DATABASE_URL: databaseUrl,
          SECRET_KEY: 'test-secret-key-that-is-long-enough-to-sign-tokens',
          LOG_LEVEL: 'warn',
          AI_BASE_URL: fake.url,
          AI_MAX_RETRIES: '0',
          JOBS_POLL_MS: '100',
          JOBS_MAINTENANCE_SECONDS: '1',
          SHUTDOWN_GRACE_SECONDS: '1',
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      children.push(child);
      return child;
    }

    it('is picked up by another worker after its expiry; each article once', async () => {
      const setup = await twoTasks('Killed');
      fake.reset();
      fake.respond = fakeWriter({ delayMs: 150 }).respond;
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
