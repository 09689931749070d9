import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { balanceOf, ledgerSum, PRO_PLAN } from '../../../test/billing-fixtures.js';
import { addMember, createApiKey, makeStaff, rowsOf, type SignedUp, signUp } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { expectSecured } from '../../../test/security.js';
import { AppError } from '../../core/errors.js';
import { addMonth, periodRef } from './billing.service.js';

/**
 * Billing through the real app on its own database (PGlite, or Postgres with TEST_DATABASE_URL): the ledger
 * under concurrency, plans and packs, feeds, permissions, and staff's routes. Stripe has its own file.
 */

let t: TestApp;
let owner: SignedUp;
let staff: SignedUp;

/** A fresh account whose balance is exactly `credits`, set through the ledger. */
async function accountWith(credits: number): Promise<SignedUp> {
  const who = await signUp(t);
  const billing = t.app.services.billing;
  const current = await billing.balance(who);
  if (current !== credits)
    await billing.adjust(who, credits - current, `test-set:${who.accountId}`, { reason: 'test setup', actor_id: null });
  return who;
}

beforeAll(async () => {
  t = await buildTestApp();
  owner = await signUp(t);
  staff = await makeStaff(t, await signUp(t));
});
afterAll(async () => t?.close());

describe('registration and the balance', () => {
  it('grants the free plan credits through the ledger, and the balance equals the ledger sum', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/billing/credits/balance/', headers: owner.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual({ account_id: owner.accountId, balance: 200 });
    expect(await ledgerSum(t, owner.accountId)).toBe(200);
    const tx = await t.request({ method: 'GET', url: '/api/v1/billing/credits/transactions/', headers: owner.headers });
    expect(tx.statusCode).toBe(200);
    expect(tx.json().data.count).toBeNull();
    expect(tx.json().data.results).toMatchObject([
      { amount: 200, type: 'grant', balance_after: 200, account_id: owner.accountId },
    ]);
  });

  it('shows the subscription to admins', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/billing/status/', headers: owner.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({
      plan: { slug: 'free', monthly_credits: 200 },
      status: 'active',
      provider: null,
      balance: 200,
    });
  });
});

describe('plans and credit packs are public', () => {
  it('lists the free plan without credentials', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/billing/plans/' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.results.map((p: { slug: string }) => p.slug)).toContain('free');
    const packs = await t.request({ method: 'GET', url: '/api/v1/billing/credit-packs/' });
    expect(packs.statusCode).toBe(200);
  });
});

describe('the ledger service', () => {
  it('estimates per operation, rounded up per request; unknown operations are field errors', async () => {
    const billing = t.app.services.billing;
    expect(await billing.estimate('content_generation', 150)).toBe(2);
    expect(await billing.estimate('content_generation', 1500)).toBe(15);
    expect(await billing.estimate('clustering_ai', 45)).toBe(3);
    expect(await billing.estimate('image_generation', 2)).toBe(10);
    expect(await billing.estimate('linking', 40)).toBe(0);
    const error = await billing.estimate('teleportation', 1).catch((e) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error.options.errors.operation).toBeDefined();
  });

  it('50 concurrent charges of 3 against 100: exactly 33 succeed, the balance is 1 and equals the ledger', async () => {
    const who = await accountWith(100);
    const billing = t.app.services.billing;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => billing.charge(who, 'clustering_ai', 60, `conc:${who.accountId}:${i}`)),
    );
    const ok = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
    expect(ok).toHaveLength(33);
    expect(refused).toHaveLength(17);
    for (const r of refused) expect((r.reason as AppError).code).toBe('insufficient_credits');
    expect(await balanceOf(t, who.accountId)).toBe(1);
    expect(await ledgerSum(t, who.accountId)).toBe(1);
  });

  it('charges once per ref, refuses short balances without changing anything, and refunds once', async () => {
    const who = await accountWith(10);
    const billing = t.app.services.billing;
    const first = await billing.charge(who, 'image_generation', 1, `img:${who.accountId}:1`, {
      object_type: 'image',
      object_id: 7,
    });
    expect(first).toEqual({ charged: true, credits: 5, balance: 5 });
    const again = await billing.charge(who, 'image_generation', 1, `img:${who.accountId}:1`);
    expect(again).toEqual({ charged: false, credits: 5, balance: 5 });
    const short = await billing.charge(who, 'image_generation', 2, `img:${who.accountId}:2`).catch((e) => e);
    expect(short.code).toBe('insufficient_credits');
    expect(short.options.details).toEqual({ required: 10, balance: 5 });
    await expect(billing.ensure(who, 6)).rejects.toMatchObject({ code: 'insufficient_credits' });
    await billing.ensure(who, 5);
    expect(await billing.refund(who, `img:${who.accountId}:1`)).toEqual({ refunded: true, credits: 5, balance: 10 });
    expect(await billing.refund(who, `img:${who.accountId}:1`)).toEqual({ refunded: false, credits: 5, balance: 10 });
    await expect(billing.refund(who, 'never-charged')).rejects.toMatchObject({ code: 'not_found' });
    expect(await ledgerSum(t, who.accountId)).toBe(10);
    const types = await rowsOf<{ type: string }>(
      t,
      sql`select type from billing_credit_transactions where account_id = ${who.accountId} order by id`,
    );
    expect(types.map((r) => r.type)).toEqual(['grant', 'adjustment', 'usage', 'refund']);
  });

  it('a charge inside a caller transaction that rolls back leaves nothing behind', async () => {
    const who = await accountWith(20);
    const billing = t.app.services.billing;
    await t.database.db
      .transaction(async (tx) => {
        await billing.charge(who, 'image_generation', 1, `rollback:${who.accountId}`, { tx });
        throw new Error('the caller fails after charging');
      })
      .catch(() => {});
    expect(await balanceOf(t, who.accountId)).toBe(20);
    expect(await ledgerSum(t, who.accountId)).toBe(20);
  });

  it('records usage once per ref and summarises it per period', async () => {
    const who = await signUp(t);
    const billing = t.app.services.billing;
    const usage = {
      operation: 'content_generation',
      model: 'gpt-test',
      tokens_in: 100,
      tokens_out: 900,
      credits: 15,
      cost_micros: 1234,
      latency_ms: 800,
    };
    await billing.recordUsage(who, { ...usage, ref: `u:${who.accountId}:1` });
    await billing.recordUsage(who, { ...usage, ref: `u:${who.accountId}:1` });
    await billing.recordUsage(who, { ...usage, operation: 'image_generation', credits: 5 });
    const feed = await t.request({
      method: 'GET',
      url: '/api/v1/billing/credits/usage/?operation=content_generation',
      headers: who.headers,
    });
    expect(feed.statusCode).toBe(200);
    expect(feed.json().data.results).toHaveLength(1);
    expect(feed.json().data.results[0]).toMatchObject(usage);
    const summary = await t.request({
      method: 'GET',
      url: '/api/v1/billing/credits/usage/summary/?period=month',
      headers: who.headers,
    });
    expect(summary.statusCode).toBe(200);
    const byOp = Object.fromEntries(summary.json().data.results.map((r: { operation: string }) => [r.operation, r]));
    expect(byOp.content_generation).toMatchObject({ calls: 1, credits: 15, tokens_in: 100, tokens_out: 900, cost_micros: 1234 });
    expect(byOp.image_generation).toMatchObject({ calls: 1, credits: 5 });
    const bad = await t.request({
      method: 'GET',
      url: '/api/v1/billing/credits/usage/summary/?period=year',
      headers: who.headers,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.period).toBeDefined();
    const badFilter = await t.request({
      method: 'GET',
      url: '/api/v1/billing/credits/transactions/?type=gift',
      headers: who.headers,
    });
    expect(badFilter.statusCode).toBe(400);
  });

  it('renews a provider-less plan once per period', async () => {
    const who = await signUp(t);
    const billing = t.app.services.billing;
    const past = new Date(Date.now() - 3 * 86_400_000);
    await t.database.db.execute(
      sql`update billing_subscriptions set current_period_end = ${past.toISOString()} where account_id = ${who.accountId}`,
    );
    expect((await billing.renewDue()).renewed).toBeGreaterThanOrEqual(1);
    expect(await balanceOf(t, who.accountId)).toBe(400);
    const again = await billing.renewDue();
    expect(again.renewed).toBe(0);
    expect(await balanceOf(t, who.accountId)).toBe(400);
    const [sub] = await rowsOf<{ current_period_start: string }>(
      t,
      sql`select current_period_start from billing_subscriptions where account_id = ${who.accountId}`,
    );
    const ref = periodRef(who.accountId, new Date(sub?.current_period_start as string));
    expect(await rowsOf(t, sql`select 1 from billing_credit_transactions where ref = ${ref}`)).toHaveLength(1);
    // The renewal job itself, run twice as a retried job would be: nothing more.
    await t.app.services.jobs.runHandler('billing.renew_plans', {}, { jobId: 'renew-test', accountId: null });
    expect(await ledgerSum(t, who.accountId)).toBe(400);
  });

  it('schedules the renewal hourly in the queue, once for every process', async () => {
    const schedules = await rowsOf<{ name: string; cron: string; timezone: string }>(
      t,
      sql`select name, cron, timezone from pgboss.schedule`,
    );
    expect(schedules).toContainEqual({ name: 'billing.renew_plans', cron: '7 * * * *', timezone: 'UTC' });
  });

  it('adds months clamped to the end of shorter months', () => {
    expect(addMonth(new Date('2026-01-31T10:00:00.000Z')).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(addMonth(new Date('2026-12-15T00:00:00.000Z')).toISOString()).toBe('2027-01-15T00:00:00.000Z');
  });
});

describe('who may read what', () => {
  it('viewers read the balance but not transactions, usage or status', async () => {
    const viewer = await addMember(t, owner, 'viewer');
    expect(
      (await t.request({ method: 'GET', url: '/api/v1/billing/credits/balance/', headers: viewer.headers })).statusCode,
    ).toBe(200);
    for (const url of [
      '/api/v1/billing/credits/transactions/',
      '/api/v1/billing/credits/usage/',
      '/api/v1/billing/credits/usage/summary/',
      '/api/v1/billing/status/',
    ]) {
      const res = await t.request({ method: 'GET', url, headers: viewer.headers });
      expect(res.statusCode, url).toBe(403);
    }
    const key = await createApiKey(t, owner, { scopes: ['read'] });
    expect((await t.request({ method: 'GET', url: '/api/v1/billing/credits/balance/', headers: key.headers })).statusCode).toBe(
      200,
    );
  });

  it('goes through the shared security checks', async () => {
    await expectSecured(t, { method: 'GET', url: '/api/v1/billing/credits/balance/', owner });
    for (const url of [
      '/api/v1/billing/credits/transactions/',
      '/api/v1/billing/credits/usage/',
      '/api/v1/billing/credits/usage/summary/',
      '/api/v1/billing/status/',
      '/api/v1/billing/portal/',
    ]) {
      await expectSecured(t, { method: 'GET', url, owner, needs: 'admin' });
    }
    await expectSecured(t, {
      method: 'POST',
      url: '/api/v1/billing/session/',
      payload: { credit_pack: 'starter' },
      owner,
      needs: 'admin',
    });
  });

  it('staff routes answer 403 to owners and 401 without credentials', async () => {
    const urls = [
      '/api/v1/admin/accounts/',
      `/api/v1/admin/accounts/${owner.accountId}/`,
      '/api/v1/admin/plans/',
      '/api/v1/admin/credit-packs/',
      '/api/v1/admin/credit-costs/',
      '/api/v1/admin/usage/',
      '/api/v1/admin/usage/summary/',
      '/api/v1/admin/stats/',
    ];
    for (const url of urls) {
      expect((await t.request({ method: 'GET', url, headers: owner.headers })).statusCode, url).toBe(403);
      expect((await t.request({ method: 'GET', url })).statusCode, url).toBe(401);
    }
    const adjust = await t.request({
      method: 'POST',
      url: `/api/v1/admin/accounts/${owner.accountId}/adjust_credits/`,
      headers: owner.headers,
      payload: { amount: 5, reason: 'x' },
    });
    expect(adjust.statusCode).toBe(403);
    const create = await t.request({
      method: 'POST',
      url: '/api/v1/admin/credit-packs/',
      headers: owner.headers,
      payload: { name: 'X', slug: 'x', credits: 1, price_cents: 1 },
    });
    expect(create.statusCode).toBe(403);
  });
});

describe('payments without Stripe configured', () => {
  it('session and portal answer 503; a bad slug is still a field error; webhooks are 400', async () => {
    const session = await t.request({
      method: 'POST',
      url: '/api/v1/billing/session/',
      headers: owner.headers,
      payload: { credit_pack: 'nope' },
    });
    expect(session.statusCode).toBe(400);
    expect(session.json().errors.credit_pack).toBeDefined();
    const unknownPlan = await t.request({
      method: 'POST',
      url: '/api/v1/billing/session/',
      headers: owner.headers,
      payload: { plan: 'platinum' },
    });
    expect(unknownPlan.statusCode).toBe(400);
    expect(unknownPlan.json().errors.plan).toBeDefined();
    const both = await t.request({ method: 'POST', url: '/api/v1/billing/session/', headers: owner.headers, payload: {} });
    expect(both.statusCode).toBe(400);
    await t.request({
      method: 'POST',
      url: '/api/v1/admin/credit-packs/',
      headers: staff.headers,
      payload: { name: 'Starter', slug: 'starter', credits: 500, price_cents: 900 },
    });
    const ok = await t.request({
      method: 'POST',
      url: '/api/v1/billing/session/',
      headers: owner.headers,
      payload: { credit_pack: 'starter' },
    });
    expect(ok.statusCode).toBe(503);
    expect(ok.json()).toMatchObject({ code: 'service_unavailable', error: expect.stringContaining('STRIPE_SECRET_KEY') });
    const portal = await t.request({ method: 'GET', url: '/api/v1/billing/portal/', headers: owner.headers });
    expect(portal.statusCode).toBe(503);
    const hook = await t.request({
      method: 'POST',
      url: '/api/v1/billing/webhooks/stripe/',
      headers: { 'stripe-signature': 't=1,v1=abc' },
      payload: { id: 'evt_1', type: 'invoice.paid' },
    });
    expect(hook.statusCode).toBe(400);
    expect(hook.json().error).toContain('STRIPE_WEBHOOK_SECRET');
  });
});

describe('staff', () => {
  it('adjusts credits through the ledger: 50 concurrent -3 on 100 leave 1, and never below zero', async () => {
    const who = await accountWith(100);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        t.request({
          method: 'POST',
          url: `/api/v1/admin/accounts/${who.accountId}/adjust_credits/`,
          headers: staff.headers,
          payload: { amount: -3, reason: 'load test' },
        }),
      ),
    );
    const codes = answers.map((a) => a.statusCode);
    expect(codes.filter((c) => c === 200)).toHaveLength(33);
    expect(codes.filter((c) => c === 400)).toHaveLength(17);
    expect(answers.find((a) => a.statusCode === 400)?.json().errors.amount).toBeDefined();
    expect(await balanceOf(t, who.accountId)).toBe(1);
    expect(await ledgerSum(t, who.accountId)).toBe(1);
    const detail = await t.request({ method: 'GET', url: `/api/v1/admin/accounts/${who.accountId}/`, headers: staff.headers });
    expect(detail.json().data).toMatchObject({
      credits: 1,
      ledger_sum: 1,
      plan_slug: 'free',
      subscription: { status: 'active' },
    });
  });

  it('validates adjustments and names missing accounts', async () => {
    const url = `/api/v1/admin/accounts/${owner.accountId}/adjust_credits/`;
    const noReason = await t.request({ method: 'POST', url, headers: staff.headers, payload: { amount: 5 } });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().errors.reason).toBeDefined();
    const zero = await t.request({ method: 'POST', url, headers: staff.headers, payload: { amount: 0, reason: 'nothing' } });
    expect(zero.statusCode).toBe(400);
    expect(zero.json().errors.amount).toBeDefined();
    const asString = await t.request({ method: 'POST', url, headers: staff.headers, payload: { amount: '5', reason: 'typed' } });
    expect(asString.statusCode).toBe(400);
    const missing = await t.request({
      method: 'POST',
      url: '/api/v1/admin/accounts/999999/adjust_credits/',
      headers: staff.headers,
      payload: { amount: 5, reason: 'x' },
    });
    expect(missing.statusCode).toBe(404);
    const plus = await t.request({ method: 'POST', url, headers: staff.headers, payload: { amount: 25, reason: 'goodwill' } });
    expect(plus.statusCode).toBe(200);
    expect(plus.json().data).toEqual({ account_id: owner.accountId, amount: 25, balance: 225 });
  });

  it('lists accounts with balances and plans', async () => {
    const res = await t.request({
      method: 'GET',
      url: `/api/v1/admin/accounts/?search=${encodeURIComponent('Team')}&ordering=-credits`,
      headers: staff.headers,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.results[0]).toMatchObject({ plan_slug: 'free', credits: expect.any(Number) });
  });

  it('edits plans, packs and costs with field errors for bad input', async () => {
    const h = staff.headers;
    const negative = await t.request({
      method: 'POST',
      url: '/api/v1/admin/credit-packs/',
      headers: h,
      payload: { name: 'Bad', slug: 'bad', credits: 10, price_cents: -1 },
    });
    expect(negative.statusCode).toBe(400);
    expect(negative.json().errors.price_cents).toBeDefined();
    const plan = await t.request({
      method: 'POST',
      url: '/api/v1/admin/plans/',
      headers: h,
      payload: PRO_PLAN,
    });
    expect(plan.statusCode).toBe(201);
    const dup = await t.request({
      method: 'POST',
      url: '/api/v1/admin/plans/',
      headers: h,
      payload: { name: 'Pro 2', slug: 'pro', price_cents: 1, monthly_credits: 1, max_sites: 1, max_users: 1, max_keywords: 1 },
    });
    expect(dup.statusCode).toBe(400);
    expect(dup.json().errors.slug).toBeDefined();
    const planId = plan.json().data.id;
    const patched = await t.request({
      method: 'PATCH',
      url: `/api/v1/admin/plans/${planId}/`,
      headers: h,
      payload: { monthly_credits: 6000 },
    });
    expect(patched.json().data.monthly_credits).toBe(6000);
    const free = (await t.request({ method: 'GET', url: '/api/v1/admin/plans/?search=free', headers: h })).json().data.results[0];
    expect((await t.request({ method: 'DELETE', url: `/api/v1/admin/plans/${free.id}/`, headers: h })).statusCode).toBe(409);
    expect((await t.request({ method: 'DELETE', url: `/api/v1/admin/plans/${planId}/`, headers: h })).statusCode).toBe(204);

    const badOp = await t.request({
      method: 'POST',
      url: '/api/v1/admin/credit-costs/',
      headers: h,
      payload: { operation: 'Bad Op!', credits: 1, unit: 'thing' },
    });
    expect(badOp.statusCode).toBe(400);
    expect(badOp.json().errors.operation).toBeDefined();
    const costs = (
      await t.request({ method: 'GET', url: '/api/v1/admin/credit-costs/?search=image_generation', headers: h })
    ).json().data.results;
    const imageCost = costs.find((c: { operation: string }) => c.operation === 'image_generation');
    const edit = await t.request({
      method: 'PATCH',
      url: `/api/v1/admin/credit-costs/${imageCost.id}/`,
      headers: h,
      payload: { credits: 7 },
    });
    expect(edit.statusCode).toBe(200);
    // The edit takes effect at once in this process (the cache is dropped on change).
    expect(await t.app.services.billing.estimate('image_generation', 2)).toBe(14);
    await t.request({ method: 'PATCH', url: `/api/v1/admin/credit-costs/${imageCost.id}/`, headers: h, payload: { credits: 5 } });
  });

  it('shows usage across accounts and stats by operation and day', async () => {
    const who = await accountWith(50);
    await t.app.services.billing.charge(who, 'idea_generation', 3, `stats:${who.accountId}`);
    const stats = await t.request({ method: 'GET', url: '/api/v1/admin/stats/?days=7', headers: staff.headers });
    expect(stats.statusCode).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    const row = stats
      .json()
      .data.spent_by_day.find((r: { day: string; operation: string }) => r.day === today && r.operation === 'idea_generation');
    expect(row.credits).toBeGreaterThanOrEqual(6);
    const usage = await t.request({
      method: 'GET',
      url: `/api/v1/admin/usage/?account_id=${owner.accountId}`,
      headers: staff.headers,
    });
    expect(usage.statusCode).toBe(200);
  });
});
