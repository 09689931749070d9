import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSector, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { type FakeOpenAI, type FakeRequest, startFakeOpenAI } from '../../../test/fake-openai.js';
import { fakeWriter } from '../../../test/fake-writer.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { expectSecured } from '../../../test/security.js';
import { finishedTask } from '../../../test/wait.js';
import { queryRows } from '../../core/db.js';
import { countWords } from './writer.html.js';

/**
 * Article generation end to end, through the API with the job queue working in this process and the fake
 * OpenAI server answering as a model would (test/fake-writer.ts): ideas → writer tasks (the planner's
 * bulk_queue_to_writer/) → auto_generate_content/ → stored articles, their provenance, the ledger, the
 * events; then the refusals (404, 409, 503 before 402) and the faults (hostile HTML, malformed answers, a 5xx,
 * a slow answer, credits running out midway).
 */

const GENERATE = '/api/v1/writer/tasks/auto_generate_content/';
let t: TestApp;
let fake: FakeOpenAI;
let writer = fakeWriter();

beforeAll(async () => {
  fake = await startFakeOpenAI();
  t = await buildTestApp(
    {
      WORKER: 'true',
      JOBS_POLL_MS: '50',
      AI_BASE_URL: fake.url,
      AI_MAX_RETRIES: '0',
      AI_TIMEOUT_SECONDS: '1',
      SHUTDOWN_GRACE_SECONDS: '1',
    },
    // A transient failure is retried at once here (the job type waits 10 s, with backoff).
    { jobLimits: { 'writer.generate_content': { retryDelaySeconds: 0, retryBackoff: false } } },
  );
  fake.respond = writer.respond;
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

type Row = Record<string, unknown>;
const rows = (query: SQL) => queryRows<Row>(t.database.db, query);

async function call(who: SignedUp, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) {
  return t.request({ method, url, headers: who.headers, ...(payload ? { payload } : {}) });
}

async function ok<T = Row>(who: SignedUp, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object): Promise<T> {
  const res = await call(who, method, url, payload);
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
  return res.json().data;
}

interface Sector {
  site_id: number;
  sector_id: number;
  cluster_id: number;
}

/** A site, a sector and a cluster with three keywords, made through the API. */
async function sectorOf(who: SignedUp): Promise<Sector> {
  const site = await createSite(t, who, 'Trail Co');
  const sector = await createSector(t, who, site.id, 'Trail running');
  const target = { site_id: site.id, sector_id: sector.id };
  const cluster = await ok<{ id: number }>(who, 'POST', '/api/v1/planner/clusters/', { ...target, name: 'Trail shoes' });
  for (const [i, keyword] of ['trail shoes', 'best trail running shoes', 'waterproof trail shoes'].entries()) {
    await ok(who, 'POST', '/api/v1/planner/keywords/', { ...target, keyword, volume: 900 - i * 100, cluster_id: cluster.id });
  }
  return { ...target, cluster_id: cluster.id };
}

interface IdeaInput {
  title: string;
  words: number;
  outline?: { heading: string; level: number; points: string[] }[];
  keywords?: string[];
}

/** Ideas queued to the writer: one writer task each, in the order given. */
async function tasksFor(who: SignedUp, sector: Sector, ideas: IdeaInput[]): Promise<number[]> {
  const ids: number[] = [];
  for (const idea of ideas) {
    const made = await ok<{ id: number }>(who, 'POST', '/api/v1/planner/content-ideas/', {
      site_id: sector.site_id,
      sector_id: sector.sector_id,
      cluster_id: sector.cluster_id,
      title: idea.title,
      description: `A practical ${idea.title.toLowerCase()} for runners.`,
      content_type: 'post',
      content_structure: 'guide',
      target_keywords: idea.keywords ?? ['trail shoes'],
      estimated_word_count: idea.words,
      outline: { sections: idea.outline ?? [] },
    });
    ids.push(made.id);
  }
  const queued = await ok<{ writer_task_ids: number[] }>(who, 'POST', '/api/v1/planner/content-ideas/bulk_queue_to_writer/', {
    ids,
  });
  return queued.writer_task_ids;
}

interface TaskView {
  id: number;
  status: string;
  attempts: number;
  progress: { current: number; total: number | null; message: string };
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
}

const finished = (who: SignedUp, taskId: number): Promise<TaskView> => finishedTask(t, who.headers, taskId);

/** Starts generation and waits for its task. */
async function generate(who: SignedUp, ids: number[]): Promise<TaskView> {
  const accepted = await ok<{ task_id: number }>(who, 'POST', GENERATE, { ids });
  return finished(who, accepted.task_id);
}

async function funded(credits = 1000): Promise<SignedUp> {
  const who = await signUp(t);
  await t.app.services.billing.grant({ accountId: who.accountId }, credits, `test-grant:${who.accountId}`);
  return who;
}

const balanceOf = async (who: SignedUp) =>
  (await ok<{ balance: number }>(who, 'GET', '/api/v1/billing/credits/balance/')).balance;
interface WriterTask {
  id: number;
  status: string;
  error: string | null;
  content_id: number | null;
}
interface Article {
  [field: string]: unknown;
  html: string;
  word_count: number;
  meta_title: string;
  meta_description: string;
  secondary_keywords: string[];
  provenance: Record<string, unknown> | null;
}
/** A writer task and an article as the API serves them (the detail routes). */
const task = (who: SignedUp, id: number) => ok<WriterTask>(who, 'GET', `/api/v1/writer/tasks/${id}/`);
const content = (who: SignedUp, id: number) => ok<Article>(who, 'GET', `/api/v1/writer/content/${id}/`);
const fnOf = (r: FakeRequest): string => r.body?.response_format?.json_schema?.name ?? '';
const userOf = (r: FakeRequest): string => r.body?.messages?.[1]?.content ?? '';
const systemOf = (r: FakeRequest): string => r.body?.messages?.[0]?.content ?? '';

describe('ideas → tasks → articles', () => {
  let owner: SignedUp;
  let sector: Sector;
  let ids: number[];
  let done: TaskView;
  let balanceBefore: number;
  const OUTLINE = [
    { heading: 'How trail shoes should fit', level: 2, points: ['Thumb width at the toe', 'Heel lock'] },
    { heading: 'Grip on wet rock', level: 2, points: ['Lug depth', 'Rubber compound'] },
    { heading: 'When to replace them', level: 2, points: ['Worn lugs'] },
  ];

  beforeAll(async () => {
    owner = await funded(1000);
    sector = await sectorOf(owner);
    ids = await tasksFor(owner, sector, [
      { title: 'Trail shoes buying guide', words: 1200, outline: OUTLINE },
      { title: 'The complete trail shoe handbook', words: 3000, keywords: ['trail shoes', 'trail shoe care'] },
    ]);
    balanceBefore = await balanceOf(owner);
    fake.reset();
    writer = fakeWriter();
    fake.respond = writer.respond;
    const res = await call(owner, 'POST', GENERATE, { ids });
    expect(res.statusCode, res.body).toBe(202);
    const data = res.json().data;
    // 12 credits for 1,200 words, 30 for 3,000: rounded up per article.
    expect(data).toEqual({ task_id: expect.any(Number), status: 'queued', credits_estimated: 42, skipped: [] });
    expect(res.headers.location).toBe(`http://localhost:80/api/v1/system/tasks/${data.task_id}/`);
    done = await finished(owner, data.task_id);
  });

  it('writes one article per task and reports them on the task', async () => {
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.progress).toMatchObject({ current: 2, total: 2 });
    expect(done.result).toMatchObject({ generated: 2, credits: 42, failed: [], skipped: [] });
    const [short, long] = await Promise.all(ids.map((id) => task(owner, id)));
    for (const row of [short, long]) {
      expect(row).toMatchObject({ status: 'completed', error: null, content_id: expect.any(Number) });
    }
    expect(done.result?.content_ids).toEqual([short?.content_id, long?.content_id]);
    // The ideas are done too.
    const ideas = await ok<{ results: { status: string }[] }>(
      owner,
      'GET',
      `/api/v1/planner/content-ideas/?site_id=${sector.site_id}`,
    );
    expect(ideas.results.map((i) => i.status)).toEqual(['completed', 'completed']);
  });

  it('stores each article as a generated draft with its SEO fields and provenance', async () => {
    const shortTask = await task(owner, ids[0] as number);
    const article = await content(owner, shortTask?.content_id as number);
    expect(article).toMatchObject({
      account_id: owner.accountId,
      site_id: sector.site_id,
      sector_id: sector.sector_id,
      title: 'Trail shoes buying guide',
      source: 'generated',
      status: 'draft',
      task_id: ids[0],
      cluster_id: sector.cluster_id,
      primary_keyword: 'trail shoes',
      slug: 'trail-shoes',
      version: 1,
      categories: ['guides'],
    });
    expect(article.meta_title).toMatch(/^Trail shoes/);
    expect(article.meta_description.length).toBeGreaterThan(100);
    expect(article.secondary_keywords).toEqual(['best trail shoes', 'trail shoes guide']);
    // Counted from the stored text, never taken from the model: exactly what the fake wrote.
    expect(article.word_count).toBe(countWords(article.html));
    expect(article.word_count).toBe(1200);
    expect(article.provenance).toEqual({
      model: 'gpt-4o-mini',
      prompt: { function: 'content', hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      temperature: null,
      tokens_in: expect.any(Number),
      tokens_out: expect.any(Number),
      credits: 12,
      task_id: ids[0],
      job_id: expect.any(String),
      generated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(article.provenance?.tokens_out as number).toBeGreaterThan(1000);
  });

  it('writes a 3,000-word target section by section, to within 15 % of it', async () => {
    const longTask = await task(owner, ids[1] as number);
    const article = await content(owner, longTask?.content_id as number);
    expect(Math.abs(article.word_count - 3000) / 3000).toBeLessThan(0.15);
    expect(article.provenance).toMatchObject({ prompt: { function: 'section' }, credits: 30 });
    // No outline on the idea: the model made one (9 sections for 3,000 words), then one call per section.
    const calls = fake.chatRequests().map(fnOf);
    expect(calls.filter((f) => f === 'content')).toHaveLength(1);
    expect(calls.filter((f) => f === 'outline')).toHaveLength(1);
    expect(calls.filter((f) => f === 'section')).toHaveLength(9);
    expect(calls.filter((f) => f === 'meta')).toHaveLength(1);
    // Each section call carries the outline and the headings written before it, in order.
    const sections = fake.chatRequests().filter((r) => fnOf(r) === 'section');
    expect(userOf(sections[0] as FakeRequest)).toContain('(none yet: this is the first section)');
    expect(userOf(sections[2] as FakeRequest)).toMatch(
      /already written[\s\S]*part 1 matters[\s\S]*part 2 matters[\s\S]*Now write section 3 of 9/,
    );
    expect(userOf(sections[8] as FakeRequest)).toContain('9 of 9 (the last one)');
    // The headings are the outline's, in the body, after the introduction.
    expect(article.html.indexOf('<p>')).toBe(0);
    expect(article.html).toContain('<h2>Why part 1 matters</h2>');
    expect(article.html).toContain('<h3>When part 4 matters</h3>');
  });

  it('writes from the task, its idea, its cluster and the account', async () => {
    const first = fake.chatRequests().find((r) => fnOf(r) === 'content') as FakeRequest;
    const user = userOf(first);
    expect(user).toContain('Title: Trail shoes buying guide');
    expect(user).toContain('Primary keyword: trail shoes');
    // The idea's outline, and the cluster's keywords beside the task's.
    expect(user).toContain('## Grip on wet rock\n   - Lug depth\n   - Rubber compound');
    expect(user).toContain('best trail running shoes\nwaterproof trail shoes');
    expect(user).toContain('about 1200 words');
    expect(systemOf(first)).toContain('You write for Trail Co (Trail running), in English, in a professional tone');
    expect(user).not.toContain('{{');
  });

  it('charges the cost table to the credit: one ledger entry per article, the usage of every call', async () => {
    expect(await balanceOf(owner)).toBe(balanceBefore - 42);
    const ledger = await rows(
      sql`select amount, operation, object_type, object_id, ref from billing_credit_transactions where account_id = ${owner.accountId} and type = 'usage' order by id`,
    );
    const [a, b] = await Promise.all(ids.map((id) => task(owner, id)));
    expect(ledger).toEqual([
      {
        amount: -12,
        operation: 'content_generation',
        object_type: 'content',
        object_id: a?.content_id,
        ref: `task:${done.id}:article:${ids[0]}`,
      },
      {
        amount: -30,
        operation: 'content_generation',
        object_type: 'content',
        object_id: b?.content_id,
        ref: `task:${done.id}:article:${ids[1]}`,
      },
    ]);
    const usage = await rows(
      sql`select operation, credits, tokens_out from billing_usage where account_id = ${owner.accountId} order by id`,
    );
    // 1 call for the short article, 1 + 9 + 1 for the long one; the credits on each article's last call.
    expect(usage).toHaveLength(12);
    expect(usage.every((r) => r.operation === 'content_generation')).toBe(true);
    expect(usage.map((r) => r.credits)).toEqual([12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 30]);
  });

  it('records content.generated and credits.debited, by the worker', async () => {
    const feed = await ok<{ results: Row[] }>(
      owner,
      'GET',
      '/api/v1/events/?type__in=content.generated,credits.debited&page_size=50',
    );
    const types = feed.results.map((e) => `${e.type}:${e.source_agent}`).sort();
    expect(types).toEqual([
      'content.generated:worker',
      'content.generated:worker',
      'credits.debited:worker',
      'credits.debited:worker',
    ]);
    const [a] = await Promise.all(ids.map((id) => task(owner, id)));
    const generated = feed.results.find((e) => e.type === 'content.generated' && e.object_id === a?.content_id);
    expect(generated).toMatchObject({
      object_type: 'content',
      actor_id: owner.userId,
      payload: { task_id: ids[0], word_count: 1200, word_count_target: 1200, credits: 12, model: 'gpt-4o-mini' },
    });
  });

  it('refuses tasks already written (409 naming them), and reports ids not found as skipped', async () => {
    const again = await call(owner, 'POST', GENERATE, { ids });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({
      code: 'conflict',
      details: { ids, current_status: { [ids[0] as number]: 'completed', [ids[1] as number]: 'completed' } },
    });
    const [fresh] = await tasksFor(owner, sector, [{ title: 'Lacing trail shoes', words: 300 }]);
    const res = await call(owner, 'POST', GENERATE, { ids: [fresh, 999_999] });
    expect(res.statusCode).toBe(202);
    expect(res.json().data.skipped).toEqual([999_999]);
    expect((await finished(owner, res.json().data.task_id)).status).toBe('succeeded');
  });
});

describe('the brief: author profile, settings, prompt override', () => {
  it('writes in the author voice and the account language, with the account prompt', async () => {
    const owner = await funded(100);
    const sector = await sectorOf(owner);
    const [id] = await tasksFor(owner, sector, [{ title: 'Trail shoes for beginners', words: 600 }]);
    const author = await ok<{ id: number }>(owner, 'POST', '/api/v1/system/author-profiles/', {
      name: 'Mia Berg',
      tone: 'dry humour',
      persona: 'a mountain guide of twenty years',
      guidelines: 'Metric units only.',
    });
    await t.database.db.execute(sql`update writer_tasks set author_profile_id = ${author.id} where id = ${id as number}`);
    await ok(owner, 'PATCH', '/api/v1/system/settings/', {
      language: 'German',
      tone: 'friendly',
      brand_guidelines: 'Say trail.',
    });
    await ok(owner, 'PATCH', '/api/v1/system/prompts/content/', {
      user_template: 'Schreibe "{{title}}", about {{word_count}} words, keyword {{primary_keyword}}.',
    });
    fake.reset();
    fake.respond = writer.respond;
    const done = await generate(owner, [id as number]);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    const [request] = fake.chatRequests();
    expect(systemOf(request as FakeRequest)).toMatch(
      /^You are Mia Berg: a mountain guide of twenty years\. You write for Trail Co \(Trail running\), in German, in a friendly tone; your own voice: dry humour\.\nAuthor guidelines: Metric units only\.\nBrand guidelines: Say trail\./,
    );
    expect(userOf(request as FakeRequest)).toBe('Schreibe "Trail shoes for beginners", about 600 words, keyword trail shoes.');
    const row = await task(owner, id as number);
    expect((await content(owner, row?.content_id as number)).word_count).toBe(600);
  });
});

describe('refusals', () => {
  let owner: SignedUp;
  let sector: Sector;
  beforeAll(async () => {
    owner = await signUp(t);
    sector = await sectorOf(owner);
  });

  it('is 402 with what is required when the balance is short of every article, and starts nothing', async () => {
    // The free plan's 200 credits: 2 × 150 credits needed.
    const ids = await tasksFor(owner, sector, [
      { title: 'Huge guide one', words: 15_000 },
      { title: 'Huge guide two', words: 15_000 },
    ]);
    const balance = await balanceOf(owner);
    const res = await call(owner, 'POST', GENERATE, { ids });
    expect(res.statusCode).toBe(402);
    expect(res.json()).toMatchObject({ code: 'insufficient_credits', details: { required: 300, balance } });
    const tasks = await ok<{ results: unknown[] }>(owner, 'GET', '/api/v1/system/tasks/');
    expect(tasks.results).toEqual([]);
    expect(await balanceOf(owner)).toBe(balance);
  });

  it("is 404 for another account's tasks, which are never written", async () => {
    const [id] = await tasksFor(owner, sector, [{ title: 'Mine only', words: 300 }]);
    const stranger = await funded(100);
    const res = await call(stranger, 'POST', GENERATE, { ids: [id] });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('not_found');
    expect((await task(owner, id as number))?.status).toBe('queued');
  });

  it('validates the body: ids required, at most 100', async () => {
    const empty = await call(owner, 'POST', GENERATE, { ids: [] });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().errors.ids).toBeDefined();
    const many = await call(owner, 'POST', GENERATE, { ids: Array.from({ length: 101 }, (_, i) => i + 1) });
    expect(many.statusCode).toBe(400);
    expect(many.json().errors.ids).toEqual(['Must have at most 100 items.']);
  });

  it('is secured: 401 without credentials, 403 for a viewer or a read-only key', async () => {
    const [id] = await tasksFor(owner, sector, [{ title: 'Secured', words: 300 }]);
    await expectSecured(t, { method: 'POST', url: GENERATE, payload: { ids: [id] }, owner });
  });
});

describe('with no AI provider configured', () => {
  let bare: TestApp;
  beforeAll(async () => {
    bare = await buildTestApp();
  });
  afterAll(async () => bare?.close());

  it('is 503 before 402, and nothing starts', async () => {
    const who = await signUp(bare);
    const site = await createSite(bare, who);
    const sector = await createSector(bare, who, site.id);
    const ids = await bare.database.db.transaction((tx) =>
      bare.app.services.writer.queueTasks(tx, who.accountId, [
        { site_id: site.id, sector_id: sector.id, title: 'Too long for the balance', word_count_target: 20_000 },
      ]),
    );
    const res = await bare.request({ method: 'POST', url: GENERATE, headers: who.headers, payload: { ids } });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'service_unavailable', details: { reason: 'not_configured' } });
  });
});

describe('faults', () => {
  let owner: SignedUp;
  let sector: Sector;
  beforeAll(async () => {
    owner = await funded(2000);
    sector = await sectorOf(owner);
  });

  it('never stores the model’s script, on* attributes, javascript: or data: URLs (one call and sectioned)', async () => {
    const ids = await tasksFor(owner, sector, [
      { title: 'Hostile short', words: 400 },
      { title: 'Hostile long', words: 1800 },
    ]);
    fake.reset();
    fake.respond = fakeWriter({ hostile: true }).respond;
    const done = await generate(owner, ids);
    fake.respond = writer.respond;
    expect(done.status).toBe('succeeded');
    for (const id of ids) {
      const row = await task(owner, id);
      const { html, word_count } = await content(owner, row?.content_id as number);
      expect(html).not.toMatch(/<script|onerror|onclick|onmouseover|javascript:|<iframe|<style|data:image|display:none|alert/i);
      // What is allowed stays: the https link and its rel.
      expect(html).toContain('<a href="https://example.com/guide" rel="nofollow">that guide</a>');
      expect(word_count).toBe(countWords(html));
    }
  });

  it('asks again once after a malformed answer', async () => {
    const [id] = await tasksFor(owner, sector, [{ title: 'Malformed once', words: 300 }]);
    fake.reset();
    fake.respond = writer.respond;
    fake.queue({ text: 'Sure! Here is your article: <p>no json</p>' });
    const done = await generate(owner, [id as number]);
    expect(done.status).toBe('succeeded');
    expect(fake.chatRequests()).toHaveLength(2);
    expect(userOf(fake.chatRequests()[1] as FakeRequest)).toContain('Your previous answer was not valid');
  });

  it('fails the article after two malformed answers, uncharged, and goes on with the next', async () => {
    const ids = await tasksFor(owner, sector, [
      { title: 'Malformed twice', words: 300 },
      { title: 'Fine after it', words: 300 },
    ]);
    const balance = await balanceOf(owner);
    fake.reset();
    fake.respond = writer.respond;
    fake.queue({ text: 'not json' }, { json: { html: 42 } });
    const done = await generate(owner, ids);
    expect(done.status).toBe('succeeded');
    expect(done.result).toMatchObject({ generated: 1, failed: [{ task_id: ids[0], code: 'malformed_output' }] });
    const failed = await task(owner, ids[0] as number);
    expect(failed).toMatchObject({ status: 'failed', content_id: null });
    expect(failed?.error).toMatch(/did not match its schema twice/);
    expect((await task(owner, ids[1] as number))?.status).toBe('completed');
    expect(await balanceOf(owner)).toBe(balance - 3);
    // A failed task may be asked again: it is queued (an event says so), then written.
    const retry = await generate(owner, [ids[0] as number]);
    expect(retry.status).toBe('succeeded');
    expect((await task(owner, ids[0] as number))?.status).toBe('completed');
    const feed = await ok<{ results: Row[] }>(owner, 'GET', '/api/v1/events/?type=writer_tasks.retried');
    expect(feed.results).toMatchObject([
      {
        source_agent: 'api',
        actor_id: owner.userId,
        object_type: 'writer_task',
        payload: { count: 1, ids: [ids[0]], task_id: retry.id },
      },
    ]);
  });

  it('retries the job after a 5xx, and stores and charges the article once', async () => {
    const [id] = await tasksFor(owner, sector, [{ title: 'After a 500', words: 1600 }]);
    const balance = await balanceOf(owner);
    fake.reset();
    fake.respond = writer.respond;
    // The outline and one section, then the provider fails: the retry writes the article again, whole.
    fake.queue(
      writer.respond({
        method: 'POST',
        path: '',
        headers: {},
        body: { response_format: { json_schema: { name: 'outline' } }, messages: [{}, { content: 'about 4 sections' }] },
      }),
      writer.respond({
        method: 'POST',
        path: '',
        headers: {},
        body: { response_format: { json_schema: { name: 'section' } }, messages: [{}, { content: 'about 300 words' }] },
      }),
      { status: 500 },
    );
    const done = await generate(owner, [id as number]);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.attempts).toBe(2);
    const count = await rows(sql`select count(*)::int as n from writer_content where task_id = ${id as number}`);
    expect(count[0]?.n).toBe(1);
    expect(await balanceOf(owner)).toBe(balance - 16);
  });

  it('fails the article for good when the provider fails on every attempt (the last one is final)', async () => {
    const [id] = await tasksFor(owner, sector, [{ title: 'Always 503', words: 300 }]);
    const balance = await balanceOf(owner);
    fake.reset();
    fake.respond = () => ({ status: 503 });
    const done = await generate(owner, [id as number]);
    fake.respond = writer.respond;
    expect(done.status).toBe('failed');
    // The job type's two retries, then the article fails with the provider's error instead of staying in progress.
    expect(done.attempts).toBe(3);
    expect(done.error?.code).toBe('provider_error');
    expect(await task(owner, id as number)).toMatchObject({ status: 'failed', error: expect.stringMatching(/answered 503/) });
    expect(await balanceOf(owner)).toBe(balance);
  });

  it('retries the job after an answer slower than AI_TIMEOUT_SECONDS', async () => {
    const [id] = await tasksFor(owner, sector, [{ title: 'Slow once', words: 300 }]);
    fake.reset();
    fake.respond = writer.respond;
    fake.queue({ delayMs: 1500, json: {} });
    const done = await generate(owner, [id as number]);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.attempts).toBe(2);
    expect((await task(owner, id as number))?.status).toBe('completed');
  });

  it('fails the article with a timeout on the last attempt, uncharged', async () => {
    const [id] = await tasksFor(owner, sector, [{ title: 'Slow provider', words: 300 }]);
    const balance = await balanceOf(owner);
    fake.reset();
    fake.respond = () => ({ delayMs: 1500, json: {} });
    // Outside the queue a run is its last attempt: the transient timeout is final for the article.
    const run = t.app.services.jobs.runHandler(
      'writer.generate_content',
      { account_id: owner.accountId, actor_id: owner.userId, task_ids: [id as number] },
      { jobId: crypto.randomUUID(), accountId: owner.accountId },
    );
    await expect(run).rejects.toMatchObject({ code: 'service_unavailable', reason: 'timeout' });
    fake.respond = writer.respond;
    expect(await task(owner, id as number)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/did not answer within/),
    });
    expect(await balanceOf(owner)).toBe(balance);
  });

  it('fails the remaining articles with insufficient_credits when the balance runs out midway', async () => {
    const who = await signUp(t);
    const mine = await sectorOf(who);
    const ids = await tasksFor(who, mine, [
      { title: 'Paid first', words: 1200 },
      { title: 'Unpaid second', words: 1200 },
    ]);
    // 200 credits: spend all but 20, then ask for 24 (the check passes only with the whole balance).
    const { accountId } = who;
    await t.app.services.billing.adjustByStaff(accountId, { amount: -180, reason: 'test' }, null);
    fake.reset();
    fake.respond = writer.respond;
    const result = (await t.app.services.jobs.runHandler(
      'writer.generate_content',
      { account_id: accountId, actor_id: who.userId, task_ids: ids },
      { jobId: crypto.randomUUID(), accountId },
    )) as { generated: number; failed: { task_id: number; code: string }[] };
    expect(result.generated).toBe(1);
    expect(result.failed).toEqual([{ task_id: ids[1], code: 'insufficient_credits', message: expect.any(String) }]);
    expect(await task(who, ids[1] as number)).toMatchObject({ status: 'failed' });
    expect(await balanceOf(who)).toBe(8);
    // The second article was refused before any call was paid for.
    expect(fake.chatRequests()).toHaveLength(1);
  });
});

describe('progress', () => {
  it('streams the article being written over server-sent events', async () => {
    const owner = await funded(100);
    const sector = await sectorOf(owner);
    const ids = await tasksFor(owner, sector, [
      { title: 'First of three', words: 300 },
      { title: 'Second of three', words: 300 },
      { title: 'Third of three', words: 300 },
    ]);
    fake.reset();
    fake.respond = fakeWriter({ delayMs: 300 }).respond;
    const accepted = await ok<{ task_id: number }>(owner, 'POST', GENERATE, { ids });
    const stream = await call(owner, 'GET', `/api/v1/system/tasks/${accepted.task_id}/events/`);
    fake.respond = writer.respond;
    expect(stream.statusCode).toBe(200);
    const messages = stream.body
      .split('\n\n')
      .filter((block) => /^event: task$/m.test(block))
      .map((block) => JSON.parse(/^data: (.+)$/m.exec(block)?.[1] ?? 'null').progress);
    expect(messages).toContainEqual({ current: 1, total: 3, message: 'Writing "Second of three"' });
    expect(stream.body).toContain('"status":"succeeded"');
  });
});
