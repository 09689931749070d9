import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSector, createSite, rowsOf, type SignedUp, signUp } from '../../../test/factories.js';
import { type FakeOpenAI, startFakeOpenAI } from '../../../test/fake-openai.js';
import { PIPELINE_KEYWORDS, pipelineResponder } from '../../../test/fake-pipeline.js';
import { connectWordPress, type FakeWordPress, fakeSite, startFakeWordPress } from '../../../test/fake-wordpress.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { expectSecured } from '../../../test/security.js';
import { until } from '../../../test/wait.js';
import { wordpressPeer } from '../../../test/wordpress-peer.js';
import { createWordPressClient } from '../integration/integration.wordpress.js';

/**
 * The pipeline end to end on the fake OpenAI-compatible server: keywords imported through the planner's API
 * become clusters, ideas, tasks, articles, image prompts and images, and land in the review queue, each
 * stage's counts on the run; run_now's 409 under two concurrent calls (the partial unique index) and its 402;
 * pause, resume and cancel; credits running out midway; a scheduled run started once by two app instances.
 */

const A = '/api/v1/automation';
let t: TestApp;
let fake: FakeOpenAI;
let delayMs = 0;
let ideaWords = 300;
let fakeWordPress: FakeWordPress | undefined;
const peer = await wordpressPeer('automation: auto-publish to the real WordPress (the stand-in is used instead)');

beforeAll(async () => {
  fake = await startFakeOpenAI();
  fake.respond = pipelineResponder({ words: () => ideaWords, delayMs: () => delayMs }).respond;
  // No grace at the end: a run a test left going (a scheduled one, say) is handed back, not waited for.
  t = await buildTestApp({
    WORKER: 'true',
    JOBS_POLL_MS: '50',
    AI_BASE_URL: fake.url,
    AI_MAX_RETRIES: '0',
    SHUTDOWN_GRACE_SECONDS: '0',
  });
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
  await fakeWordPress?.close();
});

async function call(who: SignedUp, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) {
  return t.request({ method, url, headers: who.headers, ...(payload === undefined ? {} : { payload: payload as object }) });
}

const balance = (who: SignedUp) => t.app.services.billing.balance({ accountId: who.accountId }) as Promise<number>;
const runOf = async (who: SignedUp, id: number) => (await call(who, 'GET', `${A}/runs/${id}/`)).json().data;
const finished = (who: SignedUp, id: number) =>
  until(
    'the run to finish',
    () => runOf(who, id),
    (r) => ['completed', 'failed', 'cancelled'].includes(r.status),
  );

/** A site of the owner's with 50 keywords imported through the planner's API, and a config for small articles. */
async function siteWithKeywords(owner: SignedUp, config: Record<string, unknown> = {}) {
  const site = await createSite(t, owner);
  const sector = await createSector(t, owner, site.id);
  const imported = await call(owner, 'POST', '/api/v1/planner/keywords/import/', {
    site_id: site.id,
    sector_id: sector.id,
    rows: PIPELINE_KEYWORDS,
  });
  expect(imported.json().data.created, imported.body).toBe(50);
  const patched = await call(owner, 'PATCH', `${A}/configs/${site.id}/`, {
    ideas_per_cluster: 1,
    in_article_images: 1,
    ...config,
  });
  expect(patched.statusCode, patched.body).toBe(200);
  return { site, sector };
}

async function ownerWithShortArticles(): Promise<SignedUp> {
  const owner = await signUp(t);
  const res = await call(owner, 'PATCH', '/api/v1/system/settings/', { default_word_count: 300 });
  expect(res.statusCode, res.body).toBe(200);
  return owner;
}

describe('configs', () => {
  it('answers the defaults, then stores a PATCH with the next run times in its time zone', async () => {
    const owner = await signUp(t);
    const site = await createSite(t, owner);
    const before = await call(owner, 'GET', `${A}/configs/${site.id}/`);
    expect(before.statusCode).toBe(200);
    expect(before.json().data).toMatchObject({
      id: null,
      site_id: site.id,
      is_enabled: false,
      require_approval: true,
      auto_publish: false,
      schedule: { cron: '0 6 * * *', timezone: 'UTC' },
      stages: { articles: { enabled: true, batch_size: 10 }, optimize: { enabled: false, batch_size: 10 } },
      next_run_at: null,
    });
    const patched = await call(owner, 'PATCH', `${A}/configs/${site.id}/`, {
      is_enabled: true,
      schedule: { cron: '30 9 * * *', timezone: 'America/New_York' },
      stages: { images: { enabled: false } },
      max_credits_per_run: 50,
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const data = patched.json().data;
    expect(data).toMatchObject({ id: expect.any(Number), is_enabled: true, max_credits_per_run: 50 });
    expect(data.stages.images).toEqual({ enabled: false, batch_size: 30 });
    // 09:30 in New York is 13:30 or 14:30 UTC, depending on daylight saving time.
    expect(data.next_runs).toHaveLength(5);
    for (const time of data.next_runs) expect(time).toMatch(/T1[34]:30:00\.000Z$/);
    expect(data.next_run_at).toBe(data.next_runs[0]);
    const read = await call(owner, 'GET', `${A}/configs/${site.id}/`);
    // next_runs are counted from the moment of each answer: at 13:30 or 14:30 UTC sharp the two answers' lists
    // differ by a day, so they are compared without it.
    const { next_runs: _patchedRuns, ...stored } = data;
    const { next_runs: readRuns, ...readBack } = read.json().data;
    expect(readBack).toEqual(stored);
    expect(readRuns).toHaveLength(5);
    // No lost update: a PATCH made with the ETag of a read, after another change, is 412.
    const etag = read.headers.etag as string;
    const first = await t.request({
      method: 'PATCH',
      url: `${A}/configs/${site.id}/`,
      headers: { ...owner.headers, 'if-match': etag },
      payload: { auto_publish: true },
    });
    expect(first.statusCode, first.body).toBe(200);
    const stale = await t.request({
      method: 'PATCH',
      url: `${A}/configs/${site.id}/`,
      headers: { ...owner.headers, 'if-match': etag },
      payload: { require_approval: false },
    });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('precondition_failed');
  });

  it('refuses a bad cron, an unknown time zone and unknown fields, every error at once', async () => {
    const owner = await signUp(t);
    const site = await createSite(t, owner);
    const bad = await call(owner, 'PATCH', `${A}/configs/${site.id}/`, {
      schedule: { cron: 'every day', timezone: 'Mars/Olympus' },
    });
    expect(bad.statusCode).toBe(400);
    expect(Object.keys(bad.json().errors).sort()).toEqual(['non_field_errors', 'schedule.cron', 'schedule.timezone']);
    const unknown = await call(owner, 'PATCH', `${A}/configs/${site.id}/`, { stages: { writing: { enabled: true } }, colour: 1 });
    expect(unknown.statusCode).toBe(400);
    const other = await signUp(t);
    expect((await call(other, 'GET', `${A}/configs/${site.id}/`)).statusCode).toBe(404);
  });

  it('is secured', async () => {
    const owner = await signUp(t);
    const site = await createSite(t, owner);
    await expectSecured(t, { method: 'GET', url: `${A}/configs/${site.id}/`, owner, needs: 'read', objectScoped: true });
    await expectSecured(t, { method: 'GET', url: `${A}/runs/`, owner, needs: 'read' });
    await expectSecured(t, { method: 'GET', url: `${A}/estimate/?site_id=${site.id}`, owner, needs: 'read', objectScoped: true });
    await expectSecured(t, {
      method: 'PATCH',
      url: `${A}/configs/${site.id}/`,
      owner,
      needs: 'write',
      objectScoped: true,
      payload: { is_enabled: false },
    });
    await expectSecured(t, {
      method: 'POST',
      url: `${A}/run_now/`,
      owner,
      needs: 'write',
      siteScopedBody: true,
      payload: { site_id: site.id },
    });
    const started = await call(owner, 'POST', `${A}/run_now/`, { site_id: site.id });
    const id = started.json().data.run.id;
    await finished(owner, id);
    for (const path of ['', 'logs/']) {
      await expectSecured(t, { method: 'GET', url: `${A}/runs/${id}/${path}`, owner, needs: 'read', objectScoped: true });
    }
    for (const action of ['pause', 'resume', 'cancel']) {
      await expectSecured(t, { method: 'POST', url: `${A}/runs/${id}/${action}/`, owner, needs: 'write', objectScoped: true });
    }
  });
});

describe('runs', () => {
  it('takes 50 imported keywords to articles in the review queue, with every stage’s counts and an exact ledger', async () => {
    const owner = await ownerWithShortArticles();
    const { site } = await siteWithKeywords(owner);
    const estimate = (await call(owner, 'GET', `${A}/estimate/?site_id=${site.id}`)).json().data;
    expect(estimate.stages.map((s: { stage: string }) => s.stage)).toEqual([
      'clusters',
      'ideas',
      'tasks',
      'articles',
      'image_prompts',
      'images',
      'optimize',
      'link',
      'review',
      'publish',
    ]);
    expect(estimate.stages[0]).toEqual({ stage: 'clusters', enabled: true, units: 50, credits: 0 });
    expect(estimate.credits).toBeGreaterThan(0);
    const before = await balance(owner);
    const res = await call(owner, 'POST', `${A}/run_now/`, { site_id: site.id });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.headers.location).toMatch(/\/api\/v1\/system\/tasks\/\d+\/$/);
    const run = await finished(owner, res.json().data.run.id);
    expect(run.status, JSON.stringify(run)).toBe('completed');
    // Progress went to the run's task (what system/tasks/<id>/events/ streams). The task ends when the job's
    // handler has returned, a moment after the run's own row says completed.
    const task = await until(
      "the run's task to end",
      async () => (await call(owner, 'GET', `/api/v1/system/tasks/${run.task_id}/`)).json().data,
      (row) => row.status !== 'running' && row.status !== 'queued',
    );
    expect(task).toMatchObject({ type: 'automation.run', status: 'succeeded', result: { status: 'completed' } });
    expect(task.progress.message).toMatch(/^review: \d+ of \d+$/);
    const s = run.stages;
    expect(s.clusters).toMatchObject({ status: 'completed', processed: 1 });
    expect(s.clusters.created).toBeGreaterThanOrEqual(3);
    expect(s.ideas).toMatchObject({
      status: 'completed',
      processed: s.clusters.created,
      created: s.clusters.created,
      errors: [],
    });
    expect(s.tasks).toMatchObject({ processed: s.ideas.created, created: s.ideas.created });
    expect(s.articles).toMatchObject({ processed: s.tasks.created, created: s.tasks.created, errors: [] });
    expect(s.image_prompts).toMatchObject({ processed: s.articles.created, created: 2 * s.articles.created });
    expect(s.images).toMatchObject({ processed: s.image_prompts.created, created: s.image_prompts.created });
    expect(s.review).toMatchObject({ processed: s.articles.created, created: s.articles.created });
    expect(s.optimize.status).toBe('skipped');
    const queue = (await call(owner, 'GET', `/api/v1/writer/approvals/?site_id=${site.id}`)).json().data;
    expect(queue.count).toBe(s.articles.created);
    // The ledger: what the run says it used is what the balance lost, each unit charged once.
    expect(run.credits_used).toBe(before - (await balance(owner)));
    expect(run.credits_used).toBe(s.ideas.credits + s.articles.credits + s.image_prompts.credits + s.images.credits);
    expect(run.credits_used).toBeLessThanOrEqual(estimate.credits);
    const refs = await rowsOf<{ n: number }>(
      t,
      sql`select count(*)::int as n from billing_credit_transactions where account_id = ${owner.accountId} and type = 'usage'`,
    );
    expect(refs[0]?.n).toBe(s.ideas.created + s.articles.created + s.image_prompts.processed + s.images.created);
    const events = await rowsOf<{ type: string; n: number }>(
      t,
      sql`select type, count(*)::int as n from events_events where account_id = ${owner.accountId} and type like 'automation.%' group by 1 order by 1`,
    );
    expect(events).toEqual([
      { type: 'automation.run.completed', n: 1 },
      { type: 'automation.run.queued', n: 1 },
      { type: 'automation.run.started', n: 1 },
      { type: 'automation.stage.completed', n: 7 },
    ]);
    // The run moved ideas and articles through the API's own rules as its user: those events say automation did
    // it, on behalf of that user (the jobs' own events say worker).
    const acted = await rowsOf<{ type: string; source_agent: string; actor_id: number | null }>(
      t,
      sql`select distinct type, source_agent, actor_id from events_events
           where account_id = ${owner.accountId} and (type = 'ideas.queued' or type like 'content.%') and source_agent <> 'worker'
           order by 1`,
    );
    expect(acted.map((e) => e.type)).toContain('ideas.queued');
    for (const event of acted) expect(event, event.type).toMatchObject({ source_agent: 'automation', actor_id: owner.userId });
    const logs = (await call(owner, 'GET', `${A}/runs/${run.id}/logs/?page_size=5`)).json().data;
    expect(logs.count).toBeGreaterThan(20);
    expect(logs.results[0]).toMatchObject({ run_id: run.id, stage: 'clusters', level: 'info' });
    expect(logs.next).toContain('page=2');
    const listed = (await call(owner, 'GET', `${A}/runs/?site_id=${site.id}`)).json().data;
    expect(listed.results.map((r: { id: number }) => r.id)).toEqual([run.id]);
  }, 120_000);

  it('answers 409 to the second of two concurrent run_now calls (the database decides)', async () => {
    const owner = await ownerWithShortArticles();
    const { site } = await siteWithKeywords(owner, { stages: { images: { enabled: false }, image_prompts: { enabled: false } } });
    // A run with work to do and slow answers: still active when the second call arrives, however soon the
    // worker takes the first one (an empty site's run can be over by then).
    delayMs = 100;
    const both = await Promise.all([
      call(owner, 'POST', `${A}/run_now/`, { site_id: site.id }),
      call(owner, 'POST', `${A}/run_now/`, { site_id: site.id }),
    ]);
    delayMs = 0;
    expect(both.map((r) => r.statusCode).sort()).toEqual([202, 409]);
    const refused = both.find((r) => r.statusCode === 409);
    expect(refused?.json()).toMatchObject({ success: false, code: 'conflict' });
    const runs = await rowsOf(t, sql`select id from automation_runs where site_id = ${site.id}`);
    expect(runs).toHaveLength(1);
    const run = await finished(owner, both.find((r) => r.statusCode === 202)?.json().data.run.id);
    expect(run.status).toBe('completed');
    const other = await signUp(t);
    const foreign = await call(other, 'POST', `${A}/run_now/`, { site_id: site.id });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().errors.site_id).toBeDefined();
    expect((await call(other, 'GET', `${A}/runs/${run.id}/`)).statusCode).toBe(404);
  });

  it('answers 402 before anything starts when the estimate passes the balance or the budget', async () => {
    const owner = await ownerWithShortArticles();
    const { site } = await siteWithKeywords(owner, { max_credits_per_run: 5 });
    const overBudget = await call(owner, 'POST', `${A}/run_now/`, { site_id: site.id });
    expect(overBudget.statusCode).toBe(402);
    expect(overBudget.json()).toMatchObject({
      code: 'insufficient_credits',
      details: { budget: 5, required: expect.any(Number) },
    });
    await call(owner, 'PATCH', `${A}/configs/${site.id}/`, {
      max_credits_per_run: null,
      stages: {
        articles: { batch_size: 100 },
        ideas: { batch_size: 100 },
        tasks: { batch_size: 100 },
        image_prompts: { batch_size: 100 },
      },
    });
    const overBalance = await call(owner, 'POST', `${A}/run_now/`, { site_id: site.id });
    expect(overBalance.statusCode).toBe(402);
    expect(overBalance.json().details).toEqual({ required: expect.any(Number), balance: 200 });
    expect(await rowsOf(t, sql`select id from automation_runs where site_id = ${site.id}`)).toEqual([]);
    expect(await balance(owner)).toBe(200);
  });

  it('pauses after the unit in hand, resumes from the next, and cancels keeping what was made', async () => {
    const owner = await ownerWithShortArticles();
    const { site } = await siteWithKeywords(owner, { stages: { images: { enabled: false }, image_prompts: { enabled: false } } });
    delayMs = 100;
    const started = await call(owner, 'POST', `${A}/run_now/`, { site_id: site.id });
    const id = started.json().data.run.id;
    await until(
      'the articles stage',
      () => runOf(owner, id),
      (r) => r.stages.articles.processed >= 1,
    );
    const paused = await call(owner, 'POST', `${A}/runs/${id}/pause/`);
    expect(paused.statusCode, paused.body).toBe(200);
    expect(paused.json().data.status).toBe('paused');
    const task = await until(
      'the run’s task to stop',
      async () => (await call(owner, 'GET', `/api/v1/system/tasks/${paused.json().data.task_id}/`)).json().data,
      (row) => row.status !== 'running' && row.status !== 'queued',
    );
    expect(task.result).toMatchObject({ status: 'paused' });
    const atPause = await runOf(owner, id);
    expect((await call(owner, 'POST', `${A}/runs/${id}/pause/`)).json()).toMatchObject({ code: 'conflict' });
    delayMs = 0;
    const resumed = await call(owner, 'POST', `${A}/runs/${id}/resume/`);
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect(resumed.json().data.task_id).not.toBe(paused.json().data.task_id);
    const done = await finished(owner, id);
    expect(done.status).toBe('completed');
    expect(atPause.stages.articles.processed).toBeLessThan(done.stages.articles.processed);
    // Each task written once, the one in hand at the pause included.
    const contents = await rowsOf<{ task_id: number; n: number }>(
      t,
      sql`select task_id, count(*)::int as n from writer_content where account_id = ${owner.accountId} group by 1`,
    );
    expect(contents.every((c) => c.n === 1)).toBe(true);
    expect(contents).toHaveLength(done.stages.articles.created);
    const again = await call(owner, 'POST', `${A}/runs/${id}/cancel/`);
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toContain('completed');

    // Cancelled while paused: what was made stays.
    const second = await siteWithKeywords(owner, { stages: { images: { enabled: false }, image_prompts: { enabled: false } } });
    // Slow answers keep it active until the pause, however soon the worker takes it.
    delayMs = 200;
    const run2 = (await call(owner, 'POST', `${A}/run_now/`, { site_id: second.site.id })).json().data.run.id;
    const pausedSecond = await call(owner, 'POST', `${A}/runs/${run2}/pause/`);
    expect(pausedSecond.statusCode, pausedSecond.body).toBe(200);
    const cancelled = await call(owner, 'POST', `${A}/runs/${run2}/cancel/`);
    delayMs = 0;
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json().data.status).toBe('cancelled');
    expect((await call(owner, 'POST', `${A}/runs/${run2}/resume/`)).statusCode).toBe(409);
  }, 120_000);

  it('stops the remaining units with insufficient_credits when the balance runs out midway, charging nothing twice', async () => {
    const owner = await ownerWithShortArticles();
    const { site } = await siteWithKeywords(owner, { stages: { images: { enabled: false } } });
    delayMs = 50;
    const before = await balance(owner);
    const id = (await call(owner, 'POST', `${A}/run_now/`, { site_id: site.id })).json().data.run.id;
    await until(
      'the first article',
      () => runOf(owner, id),
      (r) => r.stages.articles.created >= 1,
    );
    // From here each answer takes a second, so the drain below lands while the later articles are still being
    // written: at 50 ms an answer, a loaded machine could see the run write them all before the drain.
    delayMs = 1000;
    // Someone else spends the rest of the credits (again if the run was charged in between).
    let drained = 0;
    let attempt = 0;
    await until(
      'the balance to be spent',
      async () => {
        const left = await balance(owner);
        if (left > 0) {
          await t.app.services.billing
            .adjust({ accountId: owner.accountId }, -left, `test-drain:${id}:${++attempt}`, {
              reason: 'spent elsewhere',
              actor_id: null,
            })
            .then(() => {
              drained += left;
            })
            .catch(() => {});
        }
        return balance(owner);
      },
      (left) => left === 0,
    );
    delayMs = 0;
    const run = await finished(owner, id);
    expect(run.status).toBe('failed');
    expect(run.error.code).toBe('insufficient_credits');
    expect(run.stages.articles.status).toBe('failed');
    expect(run.stages.articles.errors.length).toBeGreaterThan(0);
    expect(run.stages.articles.errors.every((e: { code: string }) => e.code === 'insufficient_credits')).toBe(true);
    expect(run.stages.image_prompts.status).toBe('pending');
    expect(await balance(owner)).toBe(0);
    // Nothing charged twice: what the run used is what its units took from the ledger before the drain.
    expect(run.credits_used).toBe(before - drained);
    const usage = await rowsOf<{ n: number }>(
      t,
      sql`select coalesce(-sum(amount), 0)::int as n from billing_credit_transactions where account_id = ${owner.accountId} and type = 'usage'`,
    );
    expect(usage[0]?.n).toBe(run.credits_used);
    const failed = (await call(owner, 'GET', `/api/v1/events/?type=automation.run.failed`)).json().data.results;
    expect(failed[0]).toMatchObject({ object_id: id, source_agent: 'automation' });
  }, 120_000);

  it('stops at max_credits_per_run when the articles come out longer than estimated', async () => {
    const owner = await ownerWithShortArticles();
    const { site } = await siteWithKeywords(owner, {
      max_credits_per_run: 50,
      stages: { images: { enabled: false }, image_prompts: { enabled: false } },
    });
    // Estimated at the default 300 words (3 credits an article); the ideas ask for 1,600 (16 credits).
    const estimate = (await call(owner, 'GET', `${A}/estimate/?site_id=${site.id}`)).json().data;
    expect(estimate.credits).toBeLessThanOrEqual(50);
    ideaWords = 1600;
    const id = (await call(owner, 'POST', `${A}/run_now/`, { site_id: site.id })).json().data.run.id;
    const run = await finished(owner, id);
    ideaWords = 300;
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'insufficient_credits' });
    expect(run.error.message).toContain('max_credits_per_run');
    expect(run.credits_used).toBeLessThanOrEqual(50);
    expect(run.stages.articles.created).toBe(Math.floor((50 - run.stages.ideas.credits) / 16));
    expect(run.credits_used).toBe(200 - (await balance(owner)));
  }, 60_000);

  it('optimizes and links the new articles between writing and review when those stages are on', async () => {
    const owner = await ownerWithShortArticles();
    const { site } = await siteWithKeywords(owner, {
      stages: {
        ideas: { batch_size: 2 },
        image_prompts: { enabled: false },
        images: { enabled: false },
        optimize: { enabled: true },
        link: { enabled: true },
      },
    });
    const id = (await call(owner, 'POST', `${A}/run_now/`, { site_id: site.id })).json().data.run.id;
    const run = await finished(owner, id);
    expect(run.status, JSON.stringify(run)).toBe('completed');
    expect(run.stages.articles).toMatchObject({ processed: 2, created: 2 });
    expect(run.stages.optimize).toMatchObject({ status: 'completed', processed: 2, errors: [] });
    expect(run.stages.optimize.credits).toBeGreaterThan(0);
    expect(run.stages.link).toMatchObject({ status: 'completed', processed: 2, errors: [] });
    const optimized = (await call(owner, 'GET', `/api/v1/optimizer/runs/?site_id=${site.id}`)).json().data;
    expect(optimized.count).toBe(2);
    expect(run.credits_used).toBe(run.stages.ideas.credits + run.stages.articles.credits + run.stages.optimize.credits);
    expect(run.credits_used).toBe(200 - (await balance(owner)));
  }, 60_000);

  it("with approval off and auto-publish on, publishes the run's articles to WordPress, each once", async () => {
    const owner = await ownerWithShortArticles();
    const { site } = await siteWithKeywords(owner, {
      require_approval: false,
      auto_publish: true,
      publish_status: 'publish',
      stages: { images: { enabled: false }, image_prompts: { enabled: false }, ideas: { batch_size: 1 } },
    });
    // The real WordPress when it runs here (CI starts it); otherwise the publisher's stand-in.
    fakeWordPress ??= peer ? undefined : await startFakeWordPress();
    const destination = peer
      ? { baseUrl: peer.baseUrl, restRoot: peer.restUrl, username: peer.username, password: peer.applicationPassword }
      : fakeSite(fakeWordPress as FakeWordPress);
    await connectWordPress(t, { accountId: owner.accountId, siteId: site.id }, destination);
    const id = (await call(owner, 'POST', `${A}/run_now/`, { site_id: site.id })).json().data.run.id;
    const run = await finished(owner, id);
    expect(run.status, JSON.stringify(run)).toBe('completed');
    expect(run.stages.review).toMatchObject({ processed: 1, created: 1 });
    expect(run.stages.publish).toMatchObject({ status: 'completed', created: 1, errors: [] });
    const records = await until(
      'the article to be published',
      async () => (await call(owner, 'GET', `/api/v1/publisher/publishing-records/?site_id=${site.id}`)).json().data,
      (page) => page.count === 1 && ['published', 'failed'].includes(page.results[0].status),
    );
    const record = records.results[0];
    expect(record, JSON.stringify(record)).toMatchObject({ status: 'published', attempts: 1 });
    const content = (await call(owner, 'GET', `/api/v1/writer/content/?site_id=${site.id}`)).json().data.results;
    expect(content.map((c: { status: string }) => c.status)).toEqual(['published']);
    const client = createWordPressClient({
      restRoot: destination.restRoot,
      credentials: { username: destination.username, applicationPassword: destination.password },
    });
    try {
      const post = await client.request<{ status: string; title: { raw: string } }>('GET', `wp/v2/posts/${record.external_id}`, {
        query: { context: 'edit' },
      });
      expect(post.data.status).toBe('publish');
      expect(post.data.title.raw).toBe(content[0].title);
    } finally {
      if (peer) await client.request('DELETE', `wp/v2/posts/${record.external_id}`, { query: { force: true } });
    }
  }, 90_000);
});

describe('schedules', () => {
  it('start one run per due time across two app instances, a missed slot once', async () => {
    const owner = await signUp(t);
    const site = await createSite(t, owner);
    const patched = await call(owner, 'PATCH', `${A}/configs/${site.id}/`, {
      is_enabled: true,
      schedule: { cron: '0 * * * *', timezone: 'Europe/Paris' },
    });
    expect(patched.statusCode).toBe(200);
    // Everything was down for three hours: three slots missed.
    await t.database.db.execute(
      sql`update automation_configs set next_run_at = now() - interval '3 hours' where site_id = ${site.id}`,
    );
    const second = await buildTestApp({ WORKER: 'false', AI_BASE_URL: fake.url }, { database: t.database });
    try {
      await Promise.all(
        [t, second, t, second].map((app, i) =>
          app.app.services.jobs.runHandler('automation.schedule', {}, { jobId: `schedule-check-${i}`, accountId: null }),
        ),
      );
    } finally {
      await second.close();
    }
    const runs = await rowsOf<{ trigger: string; scheduled_for: Date }>(
      t,
      sql`select trigger, scheduled_for from automation_runs where site_id = ${site.id}`,
    );
    expect(runs).toHaveLength(1);
    expect(runs[0]?.trigger).toBe('scheduled');
    const config = (await call(owner, 'GET', `${A}/configs/${site.id}/`)).json().data;
    expect(new Date(config.next_run_at).getTime()).toBeGreaterThan(Date.now());
    expect(new Date(config.next_run_at).getUTCMinutes()).toBe(0);
    expect(t.app.services.jobs.definitions.get('automation.schedule')?.cron).toBe('* * * * *');
  });
});
