import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq, sql } from 'drizzle-orm';
import type { Static } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import type { Db } from '../src/core/db.js';
import { newMediaKey } from '../src/core/storage.js';
import type { RequestContext } from '../src/core/tenancy.js';
import { storeWebhookEvent } from '../src/modules/billing/billing.repository.js';
import { storeWebhookEvent as storeIntegrationWebhook } from '../src/modules/integration/integration.repository.js';
import { publisher_records } from '../src/modules/publisher/publisher.tables.js';
import { insertContent } from '../src/modules/writer/writer.repository.js';
import { writer_content, writer_images } from '../src/modules/writer/writer.tables.js';
import { createSector, createSite, type SignedUp, signUp } from './factories.js';
import { imageResponder } from './fake-images.js';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai.js';
import { connectWordPress, type FakeWordPress, fakeSite, startFakeWordPress } from './fake-wordpress.js';
import { fakeWriter } from './fake-writer.js';
import { buildTestApp, type TestApp, testConfig } from './harness.js';
import { type StepsPayload, stepsJob } from './job-types.js';
import { until } from './wait.js';

/** Jobs and tasks through the real queue on the test database, with this process as the worker. */

let t: TestApp;
let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  t = await buildTestApp(
    { WORKER: 'true', JOBS_POLL_MS: '50', SHUTDOWN_GRACE_SECONDS: '1', AI_BASE_URL: fake.url, AI_MAX_RETRIES: '0' },
    { jobs: [stepsJob] },
  );
});
let wordpress: FakeWordPress | undefined;
afterAll(async () => {
  await t?.close();
  await fake?.close();
  await wordpress?.close();
});

let nextAccount = 1000;
const ctxFor = (accountId: number): RequestContext & { accountId: number } => ({
  scheme: 'jwt',
  user: { id: 1, email: 'a@example.com', is_staff: false, is_superuser: false },
  apiKey: null,
  sessionId: null,
  accountId,
  role: 'owner',
  siteIds: null,
});

async function startSteps(accountId: number, payload: Partial<Static<typeof StepsPayload>> = {}) {
  const { jobs } = t.app.services;
  return t.database.db.transaction((tx) =>
    jobs.startTask(tx, { accountId, actorId: 1 }, 'test.steps', { account_id: accountId, steps: 3, delay_ms: 0, ...payload }),
  );
}

const rowsOf = (result: unknown) => (result as { rows: Record<string, unknown>[] }).rows;

const eventCount = async (db: Db, accountId: number, type: string) => {
  const result = await db.execute(
    sql`select count(*)::int as n from events_events where account_id = ${accountId} and type = ${type}`,
  );
  return rowsOf(result)[0]?.n as number;
};
const stepped = (db: Db, accountId: number) => eventCount(db, accountId, 'test.stepped');
/** What the job type's onAbandoned did: one event per cancelled (or lost) task. */
const released = (accountId: number) => eventCount(t.database.db, accountId, 'test.released');

describe('tasks through the queue', () => {
  it('goes queued → running → succeeded, with progress and a result', async () => {
    const accountId = ++nextAccount;
    const task = await startSteps(accountId, { steps: 4, delay_ms: 150 });
    expect(task.status).toBe('queued');
    const { tasks } = t.app.services;
    const seen = new Set<string>();
    const running = await until(
      'the task',
      () => tasks.get(ctxFor(accountId), task.id),
      (row) => (seen.add(row.status), row.status === 'running' && row.progress.current >= 1),
    );
    expect(running.progress.total).toBe(4);
    expect(running.started_at).toBeInstanceOf(Date);
    const done = await until(
      'the task',
      () => tasks.get(ctxFor(accountId), task.id),
      (row) => row.status === 'succeeded',
    );
    expect(done.progress).toEqual({ current: 4, total: 4, message: 'step 4 of 4' });
    expect(done.result).toEqual({ steps: 4 });
    expect(done.error).toBeNull();
    expect(done.finished_at).toBeInstanceOf(Date);
    expect(await stepped(t.database.db, accountId)).toBe(4);
    expect(await released(accountId)).toBe(0);
  });

  it('stops a cancelled running task between units', async () => {
    const accountId = ++nextAccount;
    const task = await startSteps(accountId, { steps: 50, delay_ms: 100 });
    const { tasks } = t.app.services;
    await until(
      'the task',
      () => tasks.get(ctxFor(accountId), task.id),
      (row) => row.progress.current >= 2,
    );
    const { pending } = await tasks.cancel(ctxFor(accountId), task.id);
    expect(pending).toBe(true);
    const done = await until(
      'the task',
      () => tasks.get(ctxFor(accountId), task.id),
      (row) => row.status === 'cancelled',
    );
    expect(done.progress.current).toBeLessThan(50);
    expect(await stepped(t.database.db, accountId)).toBeLessThanOrEqual(done.progress.current + 1);
    // Put back in the transaction that marked it cancelled: seen with it, never after it.
    expect(await released(accountId)).toBe(1);
    await expect(tasks.cancel(ctxFor(accountId), task.id)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('cancels a queued task before it starts', async () => {
    const accountId = ++nextAccount;
    const { tasks, jobs } = t.app.services;
    // Enqueued and cancelled in one transaction, so no worker can pick it up in between.
    const result = await t.database.db.transaction(async (tx) => {
      const task = await jobs.startTask(tx, { accountId, actorId: 1 }, 'test.steps', {
        account_id: accountId,
        steps: 2,
        delay_ms: 0,
      });
      return { task };
    });
    const cancelled = await tasks.cancel(ctxFor(accountId), result.task.id).catch((e) => e);
    if (cancelled instanceof Error) {
      // The worker was faster than the test: it may already be finished.
      expect(cancelled).toMatchObject({ code: 'conflict' });
      return;
    }
    expect(cancelled.task.status === 'cancelled' || cancelled.pending).toBe(true);
    const done = await until(
      'the task',
      () => tasks.get(ctxFor(accountId), result.task.id),
      (row) => row.status === 'cancelled',
    );
    expect(done.finished_at).toBeInstanceOf(Date);
    expect(await released(accountId)).toBe(1);
  });

  it('settles as worker_lost, once and with its clean-up, a task whose process died on its last attempt', async () => {
    const accountId = ++nextAccount;
    const { tasks, jobs } = t.app.services;
    // What pg-boss leaves when a process dies on a job's last attempt: the job expired and marked failed, never
    // to run again, while the task still reads running (its handler never got to settle it). Made in one
    // transaction so no worker takes the job first.
    const lost = await t.database.db.transaction(async (tx) => {
      const task = await jobs.startTask(tx, { accountId, actorId: 1 }, 'test.steps', {
        account_id: accountId,
        steps: 2,
        delay_ms: 0,
      });
      await tx.execute(sql`update system_tasks set status = 'running', attempts = 4 where id = ${task.id}`);
      await tx.execute(sql`update pgboss.job set state = 'failed', retry_count = retry_limit where id = ${task.job_id}`);
      return task;
    });
    const healthy = await startSteps(accountId, { steps: 2, delay_ms: 300 });
    await until(
      'the task',
      () => tasks.get(ctxFor(accountId), healthy.id),
      (row) => row.status === 'running',
    );
    expect(await jobs.settleLost()).toBe(1);
    const settled = await tasks.get(ctxFor(accountId), lost.id);
    expect(settled).toMatchObject({ status: 'failed', error: { code: 'worker_lost' } });
    expect(settled.finished_at).toBeInstanceOf(Date);
    expect(await released(accountId)).toBe(1);
    expect(await eventCount(t.database.db, accountId, 'task.failed')).toBe(1);
    expect(await jobs.settleLost()).toBe(0);
    const done = await until(
      'the task',
      () => tasks.get(ctxFor(accountId), healthy.id),
      (row) => row.status === 'succeeded',
    );
    expect(done.error).toBeNull();
    expect(await released(accountId)).toBe(1);
  });

  it('retries a failed attempt and then succeeds, once', async () => {
    const accountId = ++nextAccount;
    const task = await startSteps(accountId, { steps: 2, fail_attempts: 1 });
    const done = await until(
      'the task',
      () => t.app.services.tasks.get(ctxFor(accountId), task.id),
      (row) => row.status === 'succeeded' || row.status === 'failed',
    );
    expect(done.status).toBe('succeeded');
    expect(done.attempts).toBe(2);
    expect(await stepped(t.database.db, accountId)).toBe(2);
  });

  it('does not retry a failure a retry cannot fix', async () => {
    const accountId = ++nextAccount;
    const task = await startSteps(accountId, { refuse: true });
    const done = await until(
      'the task',
      () => t.app.services.tasks.get(ctxFor(accountId), task.id),
      (row) => row.status === 'failed',
    );
    expect(done.attempts).toBe(1);
    expect(done.error).toEqual({ code: 'insufficient_credits', message: 'Not enough credits for this test.' });
  });

  it('fails a bug at once, as internal_error with the task id and none of the thrown detail', async () => {
    const accountId = ++nextAccount;
    const task = await startSteps(accountId, { bug: true });
    const done = await until(
      'the task',
      () => t.app.services.tasks.get(ctxFor(accountId), task.id),
      (row) => row.status === 'failed',
    );
    expect(done.attempts).toBe(1);
    expect(done.error).toEqual({
      code: 'internal_error',
      message: `Something went wrong on our side; the error has been logged (task ${task.id}).`,
    });
    expect(JSON.stringify(done)).not.toMatch(/select|argon2|params/i);
  });

  it('starts a job made ready at once, and its retry, without waiting for the next poll', async () => {
    // Its own database and a poll of a minute: only the ready trigger's notification can wake its workers.
    const patient = await buildTestApp({ WORKER: 'true', JOBS_POLL_MS: '60000' }, { jobs: [stepsJob] });
    try {
      const accountId = ++nextAccount;
      const run = async (payload: Partial<Static<typeof StepsPayload>>) => {
        const task = await patient.database.db.transaction((tx) =>
          patient.app.services.jobs.startTask(tx, { accountId, actorId: 1 }, 'test.steps', {
            account_id: accountId,
            steps: 1,
            delay_ms: 0,
            ...payload,
          }),
        );
        return until(
          'the task',
          () => patient.app.services.tasks.get(ctxFor(accountId), task.id),
          (row) => row.status === 'succeeded',
          10_000,
        );
      };
      // The first may be found by the probe every worker runs as it starts; the second comes after that one.
      await run({});
      const done = await run({ fail_attempts: 1 });
      expect(done.attempts).toBe(2);
    } finally {
      await patient.close();
    }
  });

  it('takes expiry, timeout and retries from the job type, whatever the environment of the process', async () => {
    // A second process on the same queue with other JOBS_* settings: the queue keeps the job type's own.
    const other = await buildApp({
      config: testConfig({
        WORKER: 'false',
        JOBS_CONCURRENCY: 'test.steps=7',
        JOBS_TIMEOUT_SECONDS: 'test.steps=1700',
        JOBS_EXPIRE_SECONDS: 'test.steps=1800',
      }),
      database: t.database,
      logger: false,
      jobs: [stepsJob],
    });
    await other.ready();
    try {
      const { rows } = (await t.database.db.execute(
        sql`select expire_seconds, retry_limit, retry_delay from pgboss.queue where name = 'test.steps'`,
      )) as unknown as { rows: Record<string, number>[] };
      // expireSeconds 3 is raised to the timeout + 5 s, so a live attempt is never presumed dead.
      expect(rows[0]).toEqual({ expire_seconds: 11, retry_limit: 3, retry_delay: 0 });
      const task = await startSteps(++nextAccount);
      const job = (await t.database.db.execute(
        sql`select extract(epoch from expire_in)::int as expire, retry_limit from pgboss.job where id = ${task.job_id}::uuid`,
      )) as unknown as { rows: Record<string, number>[] };
      expect(job.rows[0]).toEqual({ expire: 11, retry_limit: 3 });
    } finally {
      await other.close();
    }
  });

  it('keeps tasks to their account', async () => {
    const accountId = ++nextAccount;
    const task = await startSteps(accountId);
    await expect(t.app.services.tasks.get(ctxFor(accountId + 1), task.id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(t.app.services.tasks.cancel(ctxFor(accountId + 1), task.id)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses a payload that does not match the job type', async () => {
    await expect(
      t.database.db.transaction((tx) =>
        t.app.services.jobs.startTask(tx, { accountId: 1, actorId: null }, 'test.steps', { steps: 'x' } as never),
      ),
    ).rejects.toThrow(/Payload for job "test.steps" is invalid/);
  });

  it('reports the queue in health', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/system/health/' });
    expect(res.json().data.job_queue.status).toBe('ok');
  });
});

describe('idempotent handlers', () => {
  /** Rows per table, all tables of ours: a second run of a handler must leave every count unchanged. */
  async function counts(db: Db): Promise<Record<string, number>> {
    const tables = await db.execute(
      sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> '__drizzle_migrations' order by 1`,
    );
    const result: Record<string, number> = {};
    for (const { table_name: name } of rowsOf(tables) as { table_name: string }[]) {
      const rows = await db.execute(sql`select count(*)::int as n from ${sql.identifier(name)}`);
      result[name] = rowsOf(rows)[0]?.n as number;
    }
    return result;
  }

  /** A receiver that answers every webhook `410 Gone`, started once. */
  let gone: Promise<string> | null = null;
  function goneReceiver(): Promise<string> {
    gone ??= new Promise((resolve) => {
      const server = createServer((_request, response) => response.writeHead(410).end());
      server.unref();
      server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`));
    });
    return gone;
  }

  /**
   * A webhook subscription of the owner's with one pending delivery, made without an event's commit (so the app's
   * own dispatcher does not take it first): active, and leased when asked.
   */
  async function pendingDelivery(owner: SignedUp, options: { leased: boolean }) {
    const res = await t.request({
      method: 'POST',
      url: '/api/v1/events/subscriptions/',
      headers: owner.headers,
      payload: { url: await goneReceiver(), event_types: ['*'], is_active: false },
    });
    if (res.statusCode !== 201) throw new Error(`subscription: ${res.statusCode} ${res.body}`);
    const subscriptionId = res.json().data.id as number;
    const [event] = rowsOf(
      await t.database.db.execute(sql`select max(id)::int as id from events_events where account_id = ${owner.accountId}`),
    ) as { id: number }[];
    const [delivery] = rowsOf(
      await t.database.db.execute(sql`insert into events_deliveries (account_id, subscription_id, event_id, event_type)
        values (${owner.accountId}, ${subscriptionId}, ${event?.id}, 'subscription.created') returning id`),
    ) as { id: number }[];
    await t.database.db.execute(sql`update events_subscriptions set is_active = true,
      lease_token = ${options.leased ? 'sample' : null}, lease_delivery_id = ${options.leased ? (delivery?.id ?? null) : null},
      lease_until = ${options.leased ? sql`now() + interval '5 minutes'` : null} where id = ${subscriptionId}`);
    return { subscriptionId, deliveryId: delivery?.id as number };
  }

  /** A site and sector of the owner's with keywords, made through the API as a user would. */
  async function sectorWithKeywords(owner: SignedUp, keywords: string[]) {
    const site = await createSite(t, owner);
    const sector = await createSector(t, owner, site.id);
    for (const [i, keyword] of keywords.entries()) {
      const res = await t.request({
        method: 'POST',
        url: '/api/v1/planner/keywords/',
        headers: owner.headers,
        payload: { site_id: site.id, sector_id: sector.id, keyword, volume: 1000 - i },
      });
      if (res.statusCode !== 201) throw new Error(`keyword: ${res.statusCode} ${res.body}`);
    }
    return { site_id: site.id, sector_id: sector.id };
  }

  /**
   * A payload per job type that reaches the handler's real work for a fresh account: keywords to cluster, a
   * cluster to write ideas for (the fake AI answers), a Stripe event that grants a credit pack, a plan renewal
   * that is due. A job type without one fails the test, so a new one cannot be skipped by accident.
   */
  /** Servers a sample starts, closed when the file ends. */
  const closeAfter: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closeAfter) await close();
  });
  const samples: Record<string, (owner: SignedUp) => Promise<unknown>> = {
    'test.steps': async (owner) => ({ account_id: owner.accountId, steps: 3, delay_ms: 0 }),
    'planner.cluster_lexical': async (owner) => ({
      account_id: owner.accountId,
      actor_id: owner.userId,
      ...(await sectorWithKeywords(owner, ['trail running shoes', 'best trail running shoes', 'trail shoes for running'])),
    }),
    'planner.cluster_ai': async (owner) => {
      // Every keyword lands in a cluster, so the second run finds nothing new to send.
      const target = await sectorWithKeywords(owner, ['rain jacket', 'waterproof rain jacket', 'rain coat']);
      fake.queue({
        json: {
          clusters: [
            { name: 'Rain jackets', description: 'For rain.', keywords: ['rain jacket', 'waterproof rain jacket', 'rain coat'] },
          ],
        },
      });
      return { account_id: owner.accountId, actor_id: owner.userId, ...target };
    },
    'planner.generate_ideas': async (owner) => {
      const target = await sectorWithKeywords(owner, ['hiking boots', 'best hiking boots']);
      const cluster = await t.request({
        method: 'POST',
        url: '/api/v1/planner/clusters/',
        headers: owner.headers,
        payload: { ...target, name: 'Hiking boots' },
      });
      if (cluster.statusCode !== 201) throw new Error(`cluster: ${cluster.statusCode} ${cluster.body}`);
      const idea = {
        title: 'Choosing hiking boots',
        description: 'How to choose.',
        content_type: 'post',
        content_structure: 'guide',
        target_keywords: ['hiking boots'],
        estimated_word_count: 1500,
        outline: { sections: [{ heading: 'Fit', level: 2, points: ['Try them late in the day'] }] },
      };
      // Both runs may ask; only the first one's ideas may be stored.
      fake.respond = () => ({ json: { ideas: [idea] } });
      return { account_id: owner.accountId, actor_id: owner.userId, cluster_ids: [cluster.json().data.id], ideas_per_cluster: 1 };
    },
    'writer.image_prompts': async (owner) => {
      const target = await sectorWithKeywords(owner, []);
      const content = await insertContent(t.database.db, owner.accountId, {
        ...target,
        title: 'Trail shoes',
        html: '<h2>Grip</h2><p>Mud.</p><h2>Fit</h2><p>Late.</p>',
      });
      // A second run finds the prompts it stored and asks nothing; the responder is there in case it would.
      fake.respond = imageResponder();
      return { account_id: owner.accountId, actor_id: owner.userId, content_id: content.id };
    },
    'writer.generate_images': async (owner) => {
      const target = await sectorWithKeywords(owner, []);
      const content = await insertContent(t.database.db, owner.accountId, {
        ...target,
        title: 'Trail shoes',
        html: '<h2>Grip</h2><p>Mud.</p>',
      });
      const images = await t.database.db
        .insert(writer_images)
        .values(
          (['featured', 'in_article'] as const).map((image_type, position) => ({
            ...target,
            account_id: owner.accountId,
            content_id: content.id,
            image_type,
            position,
            section_heading: position === 0 ? null : 'Grip',
            prompt: `Image ${position}`,
            status: 'generating' as const,
          })),
        )
        .returning({ id: writer_images.id });
      fake.respond = imageResponder();
      return { account_id: owner.accountId, actor_id: owner.userId, image_ids: images.map((i) => i.id) };
    },
    'system.purge_released_files': async (owner) => {
      // A stored image whose article is deleted: the trigger releases its file, which the purge deletes once.
      const target = await sectorWithKeywords(owner, []);
      const content = await insertContent(t.database.db, owner.accountId, { ...target, title: 'Gone', html: '<p>Soon.</p>' });
      const key = newMediaKey('png');
      await t.app.services.storage.put(key, Buffer.from('not really a png'), 'image/png');
      await t.database.db.insert(writer_images).values({
        ...target,
        account_id: owner.accountId,
        content_id: content.id,
        image_type: 'featured',
        prompt: 'A file to release',
        status: 'generated',
        storage_key: key,
      });
      await t.database.db.delete(writer_content).where(eq(writer_content.id, content.id));
      return {};
    },
    'writer.generate_content': async (owner) => {
      // One article section by section (1,600 target words): stored and charged once, the second run skips it.
      const site = await createSite(t, owner);
      const sector = await createSector(t, owner, site.id);
      const taskIds = await t.database.db.transaction((tx) =>
        t.app.services.writer.queueTasks(tx, owner.accountId, [
          { site_id: site.id, sector_id: sector.id, title: 'Trail shoes, section by section', word_count_target: 1600 },
        ]),
      );
      fake.respond = fakeWriter().respond;
      return { account_id: owner.accountId, actor_id: owner.userId, task_ids: taskIds };
    },
    'optimizer.optimize': async (owner) => {
      // One article rewritten better: a new version, a run, one charge; the second run stores nothing more.
      const site = await createSite(t, owner);
      const sector = await createSector(t, owner, site.id);
      const res = await t.request({
        method: 'POST',
        url: '/api/v1/writer/content/',
        headers: owner.headers,
        payload: {
          site_id: site.id,
          sector_id: sector.id,
          title: 'Trail shoes',
          html: '<p>Hills.</p>',
          primary_keyword: 'trail shoes',
        },
      });
      if (res.statusCode !== 201) throw new Error(`content: ${res.statusCode} ${res.body}`);
      const better = `<p>Trail shoes grip on rock. ${'However, fit matters on long runs. '.repeat(60)}</p><img src="https://cdn.example.org/a.jpg" alt="trail shoes">`;
      fake.respond = () => ({
        json: { html: better, meta_title: 'Trail shoes', meta_description: 'Trail shoes, tested.', changes: ['Longer'] },
      });
      return { account_id: owner.accountId, actor_id: owner.userId, content_ids: [res.json().data.id] };
    },
    'linker.process': async (owner) => {
      // Two articles of a site, the first naming the second's keyword: one link applied, once.
      const target = await sectorWithKeywords(owner, []);
      const filler = Array.from({ length: 400 }, (_, i) => `word${i % 11}`).join(' ');
      await insertContent(t.database.db, owner.accountId, { ...target, title: 'Gaiters', primary_keyword: 'trail gaiters' });
      const source = await insertContent(t.database.db, owner.accountId, {
        ...target,
        title: 'Hiking',
        html: `<p>Intro.</p><p>${filler}. Wear trail gaiters in mud. ${filler}.</p>`,
      });
      return { account_id: owner.accountId, actor_id: owner.userId, content_ids: [source.id], dry_run: false };
    },
    'automation.run': async (owner) => {
      // A queued run whose only stage clusters three keywords (free): the second run finds it completed.
      const target = await sectorWithKeywords(owner, [
        'trail running shoes',
        'best trail running shoes',
        'trail shoes for running',
      ]);
      const names = ['clusters', 'ideas', 'tasks', 'articles', 'image_prompts', 'images', 'optimize', 'link', 'review'];
      const settings = {
        stages: Object.fromEntries(names.map((name) => [name, { enabled: name === 'clusters', batch_size: 50 }])),
        ideas_per_cluster: 1,
        in_article_images: 0,
        require_approval: true,
        auto_publish: false,
        publish_status: 'publish',
        max_credits_per_run: null,
      };
      const inserted = await t.database.db.execute(
        sql`insert into automation_runs (account_id, site_id, trigger, settings) values (${owner.accountId}, ${target.site_id}, 'manual', ${JSON.stringify(settings)}::jsonb) returning id`,
      );
      return { account_id: owner.accountId, run_id: rowsOf(inserted)[0]?.id as number };
    },
    'automation.schedule': async (owner) => {
      // A due config whose run would pass its budget: the check records it refused, once; the second finds nothing due.
      const target = await sectorWithKeywords(owner, ['rain boots', 'best rain boots', 'rain boots for kids']);
      const res = await t.request({
        method: 'PATCH',
        url: `/api/v1/automation/configs/${target.site_id}/`,
        headers: owner.headers,
        payload: { is_enabled: true, max_credits_per_run: 1 },
      });
      if (res.statusCode !== 200) throw new Error(`config: ${res.statusCode} ${res.body}`);
      await t.database.db.execute(
        sql`update automation_configs set next_run_at = now() - interval '1 minute' where site_id = ${target.site_id}`,
      );
      return {};
    },
    'publisher.publish': async (owner) => {
      // An approved article's pending record, sent to a WordPress of the test's own: one post, once.
      const target = await sectorWithKeywords(owner, []);
      wordpress ??= await startFakeWordPress();
      await connectWordPress(t, { accountId: owner.accountId, siteId: target.site_id }, fakeSite(wordpress));
      const content = await insertContent(t.database.db, owner.accountId, {
        ...target,
        title: 'Published once',
        html: '<p>Once.</p>',
        status: 'approved',
      });
      const [record] = await t.database.db
        .insert(publisher_records)
        .values({ account_id: owner.accountId, site_id: target.site_id, content_id: content.id, destination: 'wordpress' })
        .returning({ id: publisher_records.id });
      return { account_id: owner.accountId, actor_id: owner.userId, record_ids: [record?.id] };
    },
    'publisher.deploy': async (owner) => {
      // A site with one published article and a pending deployment: one export, current; a rerun adds nothing.
      const target = await sectorWithKeywords(owner, []);
      const article = await insertContent(t.database.db, owner.accountId, { ...target, title: 'Gaiters', html: '<p>Mud.</p>' });
      await t.database.db.execute(sql`update writer_content set status = 'published' where id = ${article.id}`);
      const inserted = await t.database.db.execute(
        sql`insert into publisher_deployments (account_id, site_id, version, url, storage_prefix)
            values (${owner.accountId}, ${target.site_id}, 1, 'http://localhost/sites/a/b/', ${`deployments/${target.site_id}/1`})
            returning id`,
      );
      return { account_id: owner.accountId, actor_id: owner.userId, deployment_id: rowsOf(inserted)[0]?.id };
    },
    'billing.stripe_event': async (owner) => {
      const slug = `pack-${owner.accountId}`;
      await t.database.db.execute(
        sql`insert into billing_credit_packs (name, slug, credits, price_cents) values ('Pack', ${slug}, 300, 900)`,
      );
      const eventId = `evt_jobs_${owner.accountId}`;
      const session = {
        id: `cs_${owner.accountId}`,
        object: 'checkout.session',
        mode: 'payment',
        payment_status: 'paid',
        customer: null,
        metadata: { account_id: String(owner.accountId), credit_pack: slug },
      };
      const id = await storeWebhookEvent(t.database.db, {
        provider: 'stripe',
        event_id: eventId,
        type: 'checkout.session.completed',
        payload: {
          id: eventId,
          type: 'checkout.session.completed',
          created: Math.floor(Date.now() / 1000),
          data: { object: session },
        },
      });
      return { event_id: id };
    },
    'integration.sync': async (owner) => {
      // A stand-in WordPress with one post: the first run imports it, the second finds it unchanged.
      const wordpress = await startFakeWordPress({
        username: 'editor',
        password: 'abcdabcdabcdabcdabcdabcd',
        posts: [{ id: 3, title: 'Imported', slug: 'imported', content: '<p>From the site.</p>' }],
      });
      closeAfter.push(() => wordpress.close());
      const site = await createSite(t, owner);
      const sector = await createSector(t, owner, site.id);
      const res = await t.request({
        method: 'POST',
        url: '/api/v1/integration/integrations/',
        headers: owner.headers,
        payload: {
          site_id: site.id,
          platform: 'wordpress',
          base_url: wordpress.baseUrl,
          username: 'editor',
          credentials: 'abcdabcdabcdabcdabcdabcd',
        },
      });
      return { integration_id: res.json().data.id, sector_id: sector.id };
    },
    'integration.webhook_event': async (owner) => {
      const site = await createSite(t, owner);
      const res = await t.request({
        method: 'POST',
        url: '/api/v1/integration/integrations/',
        headers: owner.headers,
        payload: { site_id: site.id, platform: 'webhook', base_url: 'https://hooks.example.com/in' },
      });
      const id = await storeIntegrationWebhook(t.database.db, owner.accountId, {
        integration_id: res.json().data.id,
        provider: 'wordpress',
        event_id: `jobs-${owner.accountId}`,
        event_type: 'post.updated',
        payload: { id: `jobs-${owner.accountId}` },
      });
      return { account_id: owner.accountId, event_id: id };
    },
    'events.deliver': async (owner) => {
      // An attempt under way, as the dispatcher leaves it: a delivery and its subscription's lease. The receiver
      // answers 410 (no retry left behind to run later): recorded once, and the second run's lease is gone.
      const { subscriptionId, deliveryId } = await pendingDelivery(owner, { leased: true });
      return { account_id: owner.accountId, subscription_id: subscriptionId, delivery_id: deliveryId, lease: 'sample' };
    },
    'events.dispatch': async (owner) => {
      // A retry come due with no attempt under way: the job attempts it (recorded once, the 410 disables the
      // subscription); the second run finds nothing to attempt.
      const { subscriptionId } = await pendingDelivery(owner, { leased: false });
      return { subscription_id: subscriptionId };
    },
    'billing.renew_plans': async (owner) => {
      // The account's free month ended yesterday: the next month is due.
      await t.database.db.execute(
        sql`update billing_subscriptions set current_period_start = now() - interval '1 month 1 day', current_period_end = now() - interval '1 day' where account_id = ${owner.accountId}`,
      );
      return {};
    },
  };

  async function balanceOf(owner: SignedUp): Promise<number> {
    const res = await t.request({ method: 'GET', url: '/api/v1/billing/credits/balance/', headers: owner.headers });
    return res.json().data.balance;
  }

  it('runs every registered handler twice with the effect of one run', async () => {
    const { jobs } = t.app.services;
    expect(jobs.definitions.size).toBeGreaterThan(0);
    for (const definition of jobs.definitions.values()) {
      const sample = samples[definition.name];
      expect(sample, `a sample payload for ${definition.name} in this test`).toBeDefined();
      const owner = await signUp(t);
      const payload = await (sample as (owner: SignedUp) => Promise<unknown>)(owner);
      const jobId = crypto.randomUUID();
      const before = await counts(t.database.db);
      const balance = await balanceOf(owner);
      await jobs.runHandler(definition.name, payload, { jobId, accountId: owner.accountId });
      const after = await counts(t.database.db);
      // The first run did its work: rows were written (clusters, ideas, ledger entries, events).
      expect(after, `first run of ${definition.name} changed nothing`).not.toEqual(before);
      const balanceAfter = await balanceOf(owner);
      await jobs.runHandler(definition.name, payload, { jobId, accountId: owner.accountId });
      expect(await counts(t.database.db), `second run of ${definition.name}`).toEqual(after);
      expect(await balanceOf(owner), `balance after the second run of ${definition.name}`).toBe(balanceAfter);
      if (definition.name.startsWith('billing.'))
        expect(balanceAfter, `${definition.name} granted credits`).toBeGreaterThan(balance);
      fake.respond = null;
    }
    // One sample per job type, each a fresh account and two runs: the time grows with the job types.
  }, 120_000);
});

describe('graceful shutdown', () => {
  it('lets a running job finish within the grace period', async () => {
    const accountId = ++nextAccount;
    const task = await startSteps(accountId, { steps: 3, delay_ms: 200 });
    await until(
      'the task',
      () => t.app.services.tasks.get(ctxFor(accountId), task.id),
      (row) => row.status === 'running',
    );
    const other = await buildTestApp({ WORKER: 'false' }, { jobs: [stepsJob], database: t.database });
    try {
      // A second app on the same database, working no jobs itself, shows stop() returns at once with nothing
      // of its own running.
      await other.app.services.jobs.stop(5);
    } finally {
      await other.close();
    }
    await t.app.services.jobs.stop(10);
    const done = await t.app.services.tasks.get(ctxFor(accountId), task.id);
    expect(done.status).toBe('succeeded');
    await t.app.services.jobs.start();
    t.app.services.jobs.startWorkers();
  });

  it('answers a query pg-boss sends after the stop as its own closed connection does: nothing, and no rejection', async () => {
    // pg-boss's cron worker completes what it handled without awaiting it: such a complete can come after the
    // stop, when nobody can catch a rejection (a failed run's unhandled error, twice in CI).
    const other = await buildTestApp({ WORKER: 'false' }, { jobs: [stepsJob], database: t.database });
    try {
      const { jobs } = other.app.services;
      await jobs.stop(0);
      const late = await jobs.boss.complete(stepsJob.name, crypto.randomUUID());
      expect(late).toMatchObject({ requested: 1, affected: 0 });
    } finally {
      await other.close();
    }
  });

  it('logs, rather than rejects, a database error when pg-boss settles a job of its own queue it does not await', async () => {
    // Its cron's worker completes and fails what it fetched without awaiting: with the database gone in between,
    // that rejection would be unhandled and end the process.
    const other = await buildTestApp({ WORKER: 'false' });
    try {
      await other.database.close();
      const late = await other.app.services.jobs.boss.complete('__pgboss__send-it', crypto.randomUUID());
      expect(late).toMatchObject({ requested: 1, affected: 0 });
    } finally {
      await other.close();
    }
  });

  it('stops at once when asked while its workers are fetching', async () => {
    // A stop that came while a worker's fetch (or the probe's query) was out left it waiting for a wake-up that
    // had already been given: a worker for ever, the probe for a whole poll (a minute here). Each round wakes
    // every worker and stops at once.
    const other = await buildTestApp({ WORKER: 'true', JOBS_POLL_MS: '60000' }, { jobs: [stepsJob], database: t.database });
    try {
      const { jobs } = other.app.services;
      for (let round = 0; round < 20; round++) {
        for (const name of jobs.definitions.keys()) jobs.nudge(name);
        await jobs.stop(0);
        await jobs.start();
        jobs.startWorkers();
      }
    } finally {
      await other.close();
    }
  }, 20_000);

  it('hands a job back to the queue when the grace period is over, and it finishes later, once', async () => {
    const accountId = ++nextAccount;
    // Each of the first attempts waits after its first step for longer than the job's timeout lets it run, so the
    // stop always lands mid-job (a short wait let a loaded machine finish first); the last runs its steps at once,
    // far inside the timeout (with the wait again, a starved retry outran it). Handed back more times than the job
    // type's retryLimit (3): a hand-back is the process's stop, not the job's failure, so it costs no attempt.
    const handBacks = 4;
    const task = await startSteps(accountId, { steps: 3, delay_ms: 60_000, delay_attempts: handBacks });
    for (let round = 1; round <= handBacks; round++) {
      await until(
        'the task',
        () => t.app.services.tasks.get(ctxFor(accountId), task.id),
        (row) => row.status === 'running' && row.attempts === round && row.progress.current >= 1,
      );
      await t.app.services.jobs.stop(0);
      const handedBack = await t.app.services.tasks.get(ctxFor(accountId), task.id);
      expect(handedBack.status).toBe('queued');
      expect(handedBack.progress.current).toBe(1);
      await t.app.services.jobs.start();
      t.app.services.jobs.startWorkers();
    }
    const done = await until(
      'the task',
      () => t.app.services.tasks.get(ctxFor(accountId), task.id),
      (row) => row.status === 'succeeded',
    );
    expect(done.attempts).toBe(handBacks + 1);
    expect(await stepped(t.database.db, accountId)).toBe(3);
  });
});
