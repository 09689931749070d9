import { getEventListeners } from 'node:events';
import { sql } from 'drizzle-orm';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ai, AiError, type AiFunctionName, type AiUsage } from '../src/core/ai.js';
import { defineJob } from '../src/core/jobs.js';
import type { billing_credit_transactions, billing_usage } from '../src/modules/billing/billing.tables.js';
import { rowsOf, signUp } from './factories.js';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai.js';
import { buildTestApp, type TestApp } from './harness.js';

/**
 * The AI engine end to end against the fake OpenAI-compatible server: the app's own code runs unmocked, the
 * `openai` SDK talks real HTTP, the billing service writes the real ledger.
 */

let fake: FakeOpenAI;
let t: TestApp;

/** A function as the app registered it (the modules own them; src/modules.ts registers them). */
function registered(fn: AiFunctionName) {
  const definition = t.app.services.ai.functions.get(fn);
  if (!definition) throw new Error(`${fn} is not registered`);
  return definition;
}

// A job that runs one AI unit, as the planner's jobs do, and fails after it when asked (to be retried).
const aiUnitJob = defineJob({
  name: 'aitest.ideas',
  payload: Type.Object({ failAfter: Type.Boolean() }),
  async handler(job) {
    const ai: Ai = t.app.services.ai;
    const accountId = job.accountId as number;
    const result = await ai.run(
      { accountId },
      'ideas',
      { cluster_name: 'Trail shoes', keywords: ['trail shoes'], ideas_count: 1 },
      {
        ref: ai.refFor(job, 'cluster:1'),
        units: 1,
        object_type: 'cluster',
        object_id: 1,
        signal: job.signal,
      },
    );
    if (job.payload.failAfter) throw new Error('the step after the AI call failed');
    return { credits: result.credits, charged: result.charged };
  },
});

beforeAll(async () => {
  fake = await startFakeOpenAI();
  t = await buildTestApp({ AI_BASE_URL: fake.url, AI_TIMEOUT_SECONDS: '1', AI_MAX_RETRIES: '2' }, { jobs: [aiUnitJob] });
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

async function fundedAccount(credits = 1000) {
  const owner = await signUp(t);
  await t.app.services.billing.grant({ accountId: owner.accountId }, credits, `test-grant:${owner.accountId}`);
  return {
    owner,
    ctx: { accountId: owner.accountId },
    balance: await t.app.services.billing.balance({ accountId: owner.accountId }),
  };
}

type LedgerRow = typeof billing_credit_transactions.$inferSelect;
type UsageRow = typeof billing_usage.$inferSelect;

const ledger = (accountId: number) =>
  rowsOf<Pick<LedgerRow, 'type' | 'amount' | 'operation' | 'ref' | 'object_type' | 'object_id'>>(
    t,
    sql`SELECT type, amount, operation, ref, object_type, object_id FROM billing_credit_transactions WHERE account_id = ${accountId} AND type = 'usage' ORDER BY id`,
  );

const usage = (accountId: number) =>
  rowsOf<Pick<UsageRow, 'operation' | 'model' | 'tokens_in' | 'tokens_out' | 'credits' | 'cost_micros' | 'latency_ms' | 'ref'>>(
    t,
    sql`SELECT operation, model, tokens_in, tokens_out, credits, cost_micros, latency_ms, ref FROM billing_usage WHERE account_id = ${accountId} ORDER BY id`,
  );

const outline = { sections: [{ heading: 'Why', level: 2, points: ['grip'] }] };
const VALID: Record<AiFunctionName, { output: unknown; units: number; credits: number }> = {
  clustering: {
    output: {
      clusters: [{ name: 'Trail shoes', description: 'Shoes for trails', keywords: ['trail shoes', 'trail running shoes'] }],
    },
    units: 40,
    credits: 2,
  },
  ideas: {
    output: {
      ideas: [
        {
          title: 'Best trail shoes',
          description: 'A buyer guide',
          content_type: 'post',
          content_structure: 'guide',
          target_keywords: ['trail shoes'],
          estimated_word_count: 1500,
          outline,
        },
      ],
    },
    units: 1,
    credits: 2,
  },
  content: {
    output: {
      html: '<h2>Why</h2><p>Grip.</p>',
      meta_title: 'Best trail shoes',
      meta_description: 'Our picks.',
      slug: 'best-trail-shoes',
      primary_keyword: 'trail shoes',
      secondary_keywords: ['trail running shoes'],
    },
    units: 1550,
    credits: 16,
  },
  outline: {
    output: {
      sections: [
        { heading: 'Why grip matters', level: 2, points: ['Wet rock'] },
        { heading: 'Lugs', level: 3, points: [] },
      ],
    },
    units: 100,
    credits: 1,
  },
  section: { output: { html: '<p>Grip on wet rock.</p>' }, units: 300, credits: 3 },
  meta: {
    output: {
      introduction: '<p>Trail shoes grip.</p>',
      meta_title: 'Best trail shoes',
      meta_description: 'Our picks.',
      secondary_keywords: ['trail running shoes'],
    },
    units: 100,
    credits: 1,
  },
  image_prompts: {
    output: {
      featured: { prompt: 'A shoe on a rocky trail', alt_text: 'Trail shoe' },
      in_article: [{ prompt: 'Sole close-up', alt_text: 'Sole', caption: 'Grip' }],
    },
    units: 1,
    credits: 1,
  },
  optimization: {
    output: {
      html: '<p>Better.</p>',
      meta_title: 'Better',
      meta_description: 'Better.',
      changes: ['Added the keyword to the intro'],
    },
    units: 1200,
    credits: 3,
  },
};

describe('AI functions against the fake provider', () => {
  for (const fn of Object.keys(VALID) as AiFunctionName[]) {
    it(`${fn}: validated output, one usage row, one charge`, async () => {
      const { ctx, balance } = await fundedAccount();
      const { output, units, credits } = VALID[fn];
      fake.reset();
      fake.queue({ json: output, usage: { prompt_tokens: 1000, completion_tokens: 500 } });
      const result = await t.app.services.ai.run(
        ctx,
        fn,
        { title: 'Best trail shoes', keywords: ['trail shoes', 'trail running shoes'] },
        {
          ref: `test:${fn}:${ctx.accountId}`,
          units,
          object_type: 'thing',
          object_id: 7,
        },
      );
      expect(result.output).toEqual(output);
      expect(result).toMatchObject({ charged: true, credits });

      // What went over the wire: the configured model, JSON asked for by schema, the settings' language filled in.
      const [request] = fake.chatRequests();
      expect(request?.body.model).toBe('gpt-4o-mini');
      expect(request?.body.response_format).toMatchObject({
        type: 'json_schema',
        json_schema: { name: fn, schema: registered(fn).output },
      });
      expect(request?.body.messages[1].content).not.toContain('{{');
      if (fn !== 'content') expect(request?.body.messages[0].content).toContain('English');

      expect(await ledger(ctx.accountId)).toEqual([
        {
          type: 'usage',
          amount: -credits,
          operation: registered(fn).operation,
          ref: `test:${fn}:${ctx.accountId}`,
          object_type: 'thing',
          object_id: 7,
        },
      ]);
      const rows = await usage(ctx.accountId);
      // gpt-4o-mini: $0.15 / $0.60 per million tokens → 1000 × 0.15 + 500 × 0.6 micros.
      expect(rows).toEqual([
        expect.objectContaining({
          operation: registered(fn).operation,
          model: 'gpt-4o-mini',
          tokens_in: 1000,
          tokens_out: 500,
          credits,
          cost_micros: 450,
        }),
      ]);
      expect(rows[0]?.latency_ms).toBeGreaterThanOrEqual(0);
      expect(await t.app.services.billing.balance(ctx)).toBe(balance - credits);
    });
  }

  it('429 twice (with Retry-After), then an answer: one call succeeds, one charge', async () => {
    const { ctx, balance } = await fundedAccount();
    fake.reset();
    fake.queue({ status: 429, retryAfter: 1 }, { status: 429, retryAfter: 1 }, { json: VALID.ideas.output });
    const started = Date.now();
    const result = await t.app.services.ai.run(
      ctx,
      'ideas',
      { cluster_name: 'Trail shoes' },
      { ref: `test:429:${ctx.accountId}` },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900); // Retry-After honoured twice
    expect(fake.chatRequests()).toHaveLength(3);
    expect(result.charged).toBe(true);
    expect(await ledger(ctx.accountId)).toHaveLength(1);
    expect(await usage(ctx.accountId)).toHaveLength(1);
    expect(await t.app.services.billing.balance(ctx)).toBe(balance - 2);
  });

  it('a malformed answer is asked for again once; a fenced JSON answer is accepted', async () => {
    const { ctx } = await fundedAccount();
    fake.reset();
    fake.queue({ text: 'Sure! Here are some ideas.' }, { text: `\`\`\`json\n${JSON.stringify(VALID.ideas.output)}\n\`\`\`` });
    const result = await t.app.services.ai.run(ctx, 'ideas', {}, { ref: `test:retry-once:${ctx.accountId}` });
    expect(result.charged).toBe(true);
    expect(fake.chatRequests()[1]?.body.messages[1].content).toContain('Your previous answer was not valid');
    expect(await ledger(ctx.accountId)).toHaveLength(1);
    // Both calls cost tokens: both are recorded, only the good one with credits.
    expect((await usage(ctx.accountId)).map((u) => u.credits)).toEqual([0, 2]);
  });

  it('malformed twice: the unit fails with a clear error and nothing is charged', async () => {
    const { ctx, balance } = await fundedAccount();
    fake.reset();
    fake.queue({ text: '{"ideas": [' }, { json: { ideas: [{ title: 'No other fields' }] } });
    const error = await t.app.services.ai.run(ctx, 'ideas', {}, { ref: `test:malformed:${ctx.accountId}` }).catch((e) => e);
    expect(error).toBeInstanceOf(AiError);
    expect(error.reason).toBe('malformed_output');
    expect(error.message).toMatch(/did not match its schema twice .*\/ideas\/0/);
    expect(fake.chatRequests()).toHaveLength(2);
    expect(await ledger(ctx.accountId)).toEqual([]);
    expect((await usage(ctx.accountId)).map((u) => u.credits)).toEqual([0, 0]);
    expect(await t.app.services.billing.balance(ctx)).toBe(balance);
  });

  it('leaves no listener on the job signal after each call, however many units a job runs', async () => {
    const { ctx } = await fundedAccount();
    fake.reset();
    fake.respond = () => ({ json: VALID.ideas.output });
    const job = new AbortController();
    try {
      // More calls than the default 10 listeners an AbortSignal takes before MaxListenersExceededWarning.
      for (let unit = 0; unit < 12; unit++) {
        await t.app.services.ai.run(ctx, 'ideas', {}, { ref: `test:listeners:${ctx.accountId}:${unit}`, signal: job.signal });
      }
    } finally {
      fake.respond = null;
    }
    expect(getEventListeners(job.signal, 'abort')).toHaveLength(0);
  });

  it('an answer slower than AI_TIMEOUT_SECONDS fails cleanly (after the retries) and charges nothing', async () => {
    const { ctx, balance } = await fundedAccount();
    fake.reset();
    fake.respond = () => ({ delayMs: 1500, json: VALID.ideas.output });
    // The same database through an app whose calls time out sooner: three attempts of 0.3 s, not of 1 s.
    const impatient = await buildTestApp(
      { AI_BASE_URL: fake.url, AI_TIMEOUT_SECONDS: '0.3', AI_MAX_RETRIES: '2' },
      { database: t.database, jobs: [aiUnitJob] },
    );
    const error = await impatient.app.services.ai
      .run(ctx, 'ideas', {}, { ref: `test:slow:${ctx.accountId}` })
      .catch((e) => e)
      .finally(() => impatient.close());
    fake.respond = null;
    expect(error).toBeInstanceOf(AiError);
    expect(error).toMatchObject({ reason: 'timeout', code: 'service_unavailable' });
    expect(error.message).toContain('AI_TIMEOUT_SECONDS (0.3 s)');
    expect(fake.chatRequests()).toHaveLength(3); // the first try and AI_MAX_RETRIES=2
    expect(await ledger(ctx.accountId)).toEqual([]);
    expect(await usage(ctx.accountId)).toEqual([]);
    expect(await t.app.services.billing.balance(ctx)).toBe(balance);
  }, 20_000);

  it('a retried job does not charge its unit again', async () => {
    const { ctx, balance } = await fundedAccount();
    fake.reset();
    fake.respond = () => ({ json: VALID.ideas.output });
    const jobId = `00000000-0000-4000-8000-${String(ctx.accountId).padStart(12, '0')}`;
    // First attempt: the AI unit succeeds and is charged, then the job fails (and would be retried).
    await expect(
      t.app.services.jobs.runHandler('aitest.ideas', { failAfter: true }, { jobId, accountId: ctx.accountId }),
    ).rejects.toThrow('the step after');
    // The retry (same job): the provider is asked again, the charge is a no-op.
    const second = await t.app.services.jobs.runHandler(
      'aitest.ideas',
      { failAfter: false },
      { jobId, accountId: ctx.accountId },
    );
    fake.respond = null;
    expect(second).toEqual({ credits: 0, charged: false });
    expect(fake.chatRequests()).toHaveLength(2);
    expect(await ledger(ctx.accountId)).toEqual([expect.objectContaining({ amount: -2, ref: `job:${jobId}:cluster:1` })]);
    expect(await t.app.services.billing.balance(ctx)).toBe(balance - 2);
  });

  it('defers a unit of several calls: nothing charged or recorded per call, one charge and every usage when settled', async () => {
    const { ctx, balance } = await fundedAccount();
    fake.reset();
    fake.respond = () => ({ json: VALID.section.output, usage: { prompt_tokens: 200, completion_tokens: 400 } });
    const ai = t.app.services.ai;
    const calls: AiUsage[] = [];
    for (const i of [0, 1, 2]) {
      const result = await ai.run(ctx, 'section', { heading: `Part ${i}` }, { ref: `test:defer:${i}`, units: 0, defer: true });
      expect(result).toMatchObject({
        charged: false,
        credits: 0,
        temperature: null,
        prompt_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      calls.push(result.usage);
    }
    fake.respond = null;
    expect(await ledger(ctx.accountId)).toEqual([]);
    expect(await usage(ctx.accountId)).toEqual([]);
    const ref = `test:defer:${ctx.accountId}`;
    const settle = () =>
      t.database.db.transaction((tx) =>
        ai.settle(ctx, 'section', calls, { ref, units: 1600, tx, object_type: 'content', object_id: 9 }),
      );
    expect(await settle()).toEqual({ charged: true, credits: 16 });
    // Settling again (a retried unit) neither charges nor records anything more.
    expect(await settle()).toEqual({ charged: false, credits: 0 });
    expect(await ledger(ctx.accountId)).toEqual([
      { type: 'usage', amount: -16, operation: 'content_generation', ref, object_type: 'content', object_id: 9 },
    ]);
    const rows = await usage(ctx.accountId);
    expect(rows.map((r) => [r.tokens_in, r.tokens_out, r.credits, r.ref])).toEqual([
      [200, 400, 0, `${ref}:call:0`],
      [200, 400, 0, `${ref}:call:1`],
      [200, 400, 16, `${ref}:call:2`],
    ]);
    expect(await t.app.services.billing.balance(ctx)).toBe(balance - 16);
  });

  it('estimates the whole request first: 402 with required and balance, before any provider call', async () => {
    const { ctx, balance } = await fundedAccount(3); // on top of whatever the plan granted at sign-up
    fake.reset();
    const ai = t.app.services.ai;
    await expect(
      ai.ensure(ctx, [
        { fn: 'ideas', units: 1 },
        { fn: 'image_generation', units: 2 },
      ]),
    ).resolves.toBe(12);
    const clusters = Math.floor(balance / 2) + 1;
    const short = await ai.ensure(ctx, [{ fn: 'ideas', units: clusters }]).catch((e) => e);
    expect(short).toMatchObject({
      code: 'insufficient_credits',
      status: 402,
      options: { details: { required: clusters * 2, balance } },
    });
    // A unit run once the balance ran out fails with 402 without paying the provider.
    const unit = await ai
      .run(ctx, 'content', {}, { ref: `test:402:${ctx.accountId}`, units: (balance + 1) * 100 })
      .catch((e) => e);
    expect(unit).toMatchObject({ code: 'insufficient_credits' });
    expect(fake.requests).toHaveLength(0);
    expect(await ledger(ctx.accountId)).toEqual([]);
  });

  it('images: b64 or URL, charged 5 credits once', async () => {
    const { ctx, balance } = await fundedAccount();
    fake.reset();
    fake.queue({ image: { b64: 'aGVsbG8=' } }, { image: { url: 'http://127.0.0.1/image.png' } });
    const first = await t.app.services.ai.image(
      ctx,
      { prompt: 'A trail' },
      { ref: `test:image:1:${ctx.accountId}`, object_type: 'image', object_id: 1 },
    );
    expect(first).toMatchObject({ b64: 'aGVsbG8=', url: null, charged: true, credits: 5, model: 'gpt-image-1' });
    const second = await t.app.services.ai.image(
      ctx,
      { prompt: 'A trail', size: '1536x1024' },
      { ref: `test:image:2:${ctx.accountId}` },
    );
    expect(second).toMatchObject({ b64: null, url: 'http://127.0.0.1/image.png', credits: 5 });
    expect(fake.requests[1]?.body).toMatchObject({ model: 'gpt-image-1', size: '1536x1024', n: 1 });
    const rows = await usage(ctx.accountId);
    expect(rows.map((u) => [u.operation, u.credits, u.cost_micros])).toEqual([
      ['image_generation', 5, 42000],
      ['image_generation', 5, 42000],
    ]);
    expect(await t.app.services.billing.balance(ctx)).toBe(balance - 10);
  });

  it("images with defer: nothing charged until settled in the caller's transaction, once; a refused one is only recorded", async () => {
    const { ctx, balance } = await fundedAccount();
    const { ai, billing } = t.app.services;
    fake.reset();
    fake.queue({ image: { b64: 'aGVsbG8=' } }, { image: { b64: 'aGVsbG8=' } });
    const ref = `test:deferred-image:${ctx.accountId}`;
    const asked = await ai.image(ctx, { prompt: 'A trail' }, { ref, object_type: 'image', object_id: 3, defer: true });
    expect(asked).toMatchObject({ charged: false, credits: 0, prompt_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(await usage(ctx.accountId)).toEqual([]);
    // A transaction that rolls back takes the charge with it.
    await t.database.db
      .transaction(async (tx) => {
        await ai.settleImage(ctx, asked.usage, { ref, object_type: 'image', object_id: 3, tx });
        throw new Error('rolled back');
      })
      .catch(() => {});
    expect(await billing.balance(ctx)).toBe(balance);
    const settled = await t.database.db.transaction((tx) => ai.settleImage(ctx, asked.usage, { ref, tx }));
    const again = await t.database.db.transaction((tx) => ai.settleImage(ctx, asked.usage, { ref, tx }));
    expect([settled, again]).toEqual([
      { charged: true, credits: 5 },
      { charged: false, credits: 0 },
    ]);
    const refused = await ai.image(ctx, { prompt: 'A trail' }, { ref: `${ref}:2`, defer: true });
    await ai.refuseImage(ctx, refused.usage, { object_type: 'image', object_id: 4 });
    expect((await usage(ctx.accountId)).map((u) => [u.operation, u.credits])).toEqual([
      ['image_generation', 5],
      ['image_generation', 0],
    ]);
    expect(await billing.balance(ctx)).toBe(balance - 5);
  });

  it('a provider that refuses the key is a 503 naming AI_API_KEY, nothing charged', async () => {
    const { ctx } = await fundedAccount();
    fake.reset();
    fake.queue({ status: 401, message: 'Incorrect API key provided' });
    const error = await t.app.services.ai.run(ctx, 'ideas', {}, { ref: `test:401:${ctx.accountId}` }).catch((e) => e);
    expect(error).toMatchObject({ reason: 'provider_error', code: 'service_unavailable' });
    expect(error.message).toContain('AI_API_KEY');
    expect(fake.chatRequests()).toHaveLength(1); // 401 is not retried
    expect(await ledger(ctx.accountId)).toEqual([]);
  });
});
