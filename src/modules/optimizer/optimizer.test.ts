import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSector, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { type FakeOpenAI, startFakeOpenAI } from '../../../test/fake-openai.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { expectSecured } from '../../../test/security.js';
import { finishedTask } from '../../../test/wait.js';
import { queryRows } from '../../core/db.js';

/**
 * The optimizer through the API: analyze/ for a stored article and for raw HTML (the refusals), optimize/
 * with the fake model (a better rewrite becomes a new version; a worse one is only recorded), runs/, tenancy.
 */

let t: TestApp;
let fake: FakeOpenAI;
let owner: SignedUp;
let stranger: SignedUp;
let article: { id: number; version: number };

const para = (s: string) => `<p>${s}</p>`;
const WEAK_HTML = para('Some text about running in the hills with friends and nothing more to say today.');
const STRONG_HTML = [
  para('Trail shoes help you run on rocky paths. However, the fit matters most.'),
  '<h2>Why trail shoes grip</h2>',
  para(`${'For example, lugs bite into mud and the rock plate protects the foot. '.repeat(20)}`),
  '<h2>How to fit them</h2>',
  para(`${'Therefore, try them late in the day. Your feet swell on long runs. '.repeat(15)}`),
  '<img src="https://cdn.example.org/a.jpg" alt="trail shoes on rock">',
  para('Read <a href="https://example.com/guide">our guide</a> and <a href="https://other.org/study">this study</a>.'),
].join('');

async function call(who: SignedUp, method: 'GET' | 'POST', url: string, payload?: object) {
  return t.request({ method, url, headers: who.headers, ...(payload ? { payload } : {}) });
}

const finished = (who: SignedUp, taskId: number) => finishedTask(t, who.headers, taskId);

beforeAll(async () => {
  fake = await startFakeOpenAI();
  t = await buildTestApp({ WORKER: 'true', JOBS_POLL_MS: '50', AI_BASE_URL: fake.url, AI_MAX_RETRIES: '0' });
  owner = await signUp(t);
  stranger = await signUp(t);
  const site = await createSite(t, owner, 'Trail Co');
  await t.request({
    method: 'PATCH',
    url: `/api/v1/auth/sites/${site.id}/`,
    headers: owner.headers,
    payload: { url: 'https://example.com' },
  });
  const sector = await createSector(t, owner, site.id, 'Shoes');
  const res = await call(owner, 'POST', '/api/v1/writer/content/', {
    site_id: site.id,
    sector_id: sector.id,
    title: 'Trail shoes',
    html: WEAK_HTML,
    primary_keyword: 'trail shoes',
    meta_title: 'Trail shoes',
  });
  expect(res.statusCode, res.body).toBe(201);
  article = res.json().data;
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

describe('optimizer/analyze/', () => {
  it('analyses a stored article with its fields', async () => {
    const res = await call(owner, 'POST', '/api/v1/optimizer/analyze/', { content_id: article.id });
    expect(res.statusCode, res.body).toBe(200);
    const data = res.json().data;
    expect(data).toMatchObject({ content_id: article.id, rules_version: 'v1', language: 'english' });
    expect(data.checks).toHaveLength(25);
    expect(data.checks.find((c: { id: string }) => c.id === 'keyphrase_in_title')).toMatchObject({ status: 'pass', points: 9 });
    expect(data.checks.find((c: { id: string }) => c.id === 'text_length')).toMatchObject({ status: 'fail', points: -20 });
  });

  it('analyses raw html with a literal keyphrase', async () => {
    const res = await call(owner, 'POST', '/api/v1/optimizer/analyze/', {
      html: '<h2>Learning C++</h2><p>C++ is fast. <a href="/x">c++ tips</a></p>',
      keyword: 'c++',
      title: 'C++ for beginners',
    });
    expect(res.statusCode, res.body).toBe(200);
    const checks = res.json().data.checks as { id: string; status: string }[];
    expect(checks.find((c) => c.id === 'keyphrase_in_title')?.status).toBe('pass');
    expect(checks.find((c) => c.id === 'competing_links')?.status).toBe('fail');
    expect(res.json().data.content_id).toBeNull();
  });

  it('refuses what it cannot analyse, clearly', async () => {
    const neither = await call(owner, 'POST', '/api/v1/optimizer/analyze/', {});
    expect(neither.statusCode).toBe(400);
    expect(neither.json().errors).toMatchObject({ html: [expect.any(String)], keyword: [expect.any(String)] });
    const both = await call(owner, 'POST', '/api/v1/optimizer/analyze/', { content_id: article.id, html: '<p>x</p>' });
    expect(both.statusCode).toBe(400);
    const huge = await call(owner, 'POST', '/api/v1/optimizer/analyze/', { html: 'x'.repeat(1_100_000), keyword: 'x' });
    expect(huge.statusCode).toBe(413);
    const empty = await call(owner, 'POST', '/api/v1/optimizer/analyze/', { html: '', keyword: 'trail shoes' });
    expect(empty.statusCode).toBe(200);
    expect(empty.json().data.checks.find((c: { id: string }) => c.id === 'text_presence').status).toBe('fail');
    const theirs = await call(stranger, 'POST', '/api/v1/optimizer/analyze/', { content_id: article.id });
    expect(theirs.statusCode).toBe(404);
  });
});

describe('optimizer/optimize/', () => {
  it('keeps a better rewrite as a new version and records the run, charged once', async () => {
    fake.queue({
      json: { html: STRONG_HTML, meta_title: 'Trail shoes: a guide', meta_description: 'd'.repeat(130), changes: ['Rewrote it'] },
    });
    const before = await queryRows<{ credits_balance: number }>(
      t.database.db,
      sql`select credits as credits_balance from auth_accounts where id = ${owner.accountId}`,
    );
    const res = await call(owner, 'POST', '/api/v1/optimizer/optimize/', { content_ids: [article.id, 999_999] });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().data).toMatchObject({ credits_estimated: 1, skipped: [999_999] });
    const task = await finished(owner, res.json().data.task_id);
    expect(task.status, JSON.stringify(task)).toBe('succeeded');
    expect(task.result).toMatchObject({ optimized: 1, applied: 1, credits: 1 });
    const runs = (await call(owner, 'GET', `/api/v1/optimizer/runs/?content_id=${article.id}`)).json().data;
    expect(runs.count).toBe(1);
    const run = runs.results[0];
    expect(run).toMatchObject({
      content_id: article.id,
      applied: true,
      credits: 1,
      changes: ['Rewrote it'],
      version: article.version + 1,
    });
    expect(run.score_after).toBeGreaterThan(run.score_before);
    const detail = (await call(owner, 'GET', `/api/v1/writer/content/${article.id}/`)).json().data;
    expect(detail.version).toBe(article.version + 1);
    expect(detail.meta_title).toBe('Trail shoes: a guide');
    const versions = (await call(owner, 'GET', `/api/v1/writer/content/${article.id}/versions/`)).json().data;
    expect(versions.results[0]).toMatchObject({ reason: 'optimized' });
    const after = await queryRows<{ credits_balance: number }>(
      t.database.db,
      sql`select credits as credits_balance from auth_accounts where id = ${owner.accountId}`,
    );
    expect(Number(before[0]?.credits_balance) - Number(after[0]?.credits_balance)).toBe(1);
    const events = (await call(owner, 'GET', `/api/v1/events/?type=content.optimized&object_id=${article.id}`)).json().data;
    expect(events.results[0]).toMatchObject({ source_agent: 'worker', object_type: 'content', payload: { applied: true } });
    // The run's detail, and another account's is 404.
    expect((await call(owner, 'GET', `/api/v1/optimizer/runs/${run.id}/`)).json().data).toEqual(run);
    expect((await call(stranger, 'GET', `/api/v1/optimizer/runs/${run.id}/`)).statusCode).toBe(404);
    expect((await call(stranger, 'GET', '/api/v1/optimizer/runs/')).json().data.count).toBe(0);
  });

  it('records a worse rewrite without applying it', async () => {
    fake.queue({ json: { html: '<p>Short.</p>', meta_title: 'x', meta_description: 'y', changes: [] } });
    const current = (await call(owner, 'GET', `/api/v1/writer/content/${article.id}/`)).json().data;
    const res = await call(owner, 'POST', '/api/v1/optimizer/optimize/', { content_ids: [article.id] });
    const task = await finished(owner, res.json().data.task_id);
    expect(task.result).toMatchObject({ optimized: 1, applied: 0 });
    const run = (await call(owner, 'GET', `/api/v1/optimizer/runs/?task_id=${task.id}`)).json().data.results[0];
    expect(run).toMatchObject({ applied: false, version: null });
    expect((await call(owner, 'GET', `/api/v1/writer/content/${article.id}/`)).json().data.version).toBe(current.version);
  });

  it("another account's articles are 404", async () => {
    expect((await call(stranger, 'POST', '/api/v1/optimizer/optimize/', { content_ids: [article.id] })).statusCode).toBe(404);
  });
});

describe('security', () => {
  it('every route is secured', async () => {
    await expectSecured(t, {
      method: 'POST',
      url: '/api/v1/optimizer/analyze/',
      payload: { html: '<p>x</p>', keyword: 'x' },
      owner,
      needs: 'read',
    });
    await expectSecured(t, { method: 'GET', url: '/api/v1/optimizer/runs/', owner });
    const run = (await call(owner, 'GET', '/api/v1/optimizer/runs/')).json().data.results[0];
    await expectSecured(t, { method: 'GET', url: `/api/v1/optimizer/runs/${run.id}/`, owner, objectScoped: true });
    fake.respond = () => ({ json: { html: '<p>Short.</p>', meta_title: 'x', meta_description: 'y', changes: [] } });
    await expectSecured(t, {
      method: 'POST',
      url: '/api/v1/optimizer/optimize/',
      payload: { content_ids: [article.id] },
      owner,
      objectScoped: true,
    });
  });
});
