import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { balanceOf, ledgerSum, PRO_PLAN } from '../../../test/billing-fixtures.js';
import { makeStaff, rowsOf, type SignedUp, signUp } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';

/**
 * Payments against a fake Stripe: a real HTTP server started here that answers the few API calls billing
 * makes (customers, checkout sessions, portal sessions) and records them. Webhooks are signed with the stripe
 * package's own test-header helper, and the stored events are applied by running the job's handler.
 */

const WEBHOOK_SECRET = 'whsec_test_secret_for_billing';
let t: TestApp;
let server: Server;
const calls: { path: string; body: URLSearchParams }[] = [];
let owner: SignedUp;

function fakeStripe(req: IncomingMessage, res: ServerResponse) {
  let raw = '';
  req.on('data', (chunk) => (raw += chunk));
  req.on('end', () => {
    const body = new URLSearchParams(raw);
    const path = (req.url ?? '').split('?')[0] ?? '';
    calls.push({ path, body });
    const send = (status: number, data: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${calls.length}` });
      res.end(JSON.stringify(data));
    };
    if (req.method === 'POST' && path === '/v1/customers') return send(200, { id: `cus_${calls.length}`, object: 'customer' });
    if (req.method === 'POST' && path === '/v1/checkout/sessions') {
      return send(200, {
        id: `cs_test_${calls.length}`,
        object: 'checkout.session',
        url: `https://checkout.example.test/cs_test_${calls.length}`,
      });
    }
    if (req.method === 'POST' && path === '/v1/billing_portal/sessions') {
      return send(200, { id: 'bps_1', object: 'billing_portal.session', url: 'https://portal.example.test/session' });
    }
    send(404, { error: { type: 'invalid_request_error', message: `No fake for ${req.method} ${path}` } });
  });
}

const sign = (payload: string, options: { secret?: string; timestamp?: number } = {}) =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? WEBHOOK_SECRET, timestamp: options.timestamp });

let eventSeq = 0;
function event(type: string, object: Record<string, unknown>, created = Math.floor(Date.now() / 1000)) {
  return {
    id: `evt_${Date.now()}_${++eventSeq}`,
    object: 'event',
    type,
    created,
    api_version: Stripe.API_VERSION,
    data: { object },
  };
}

async function deliver(body: unknown, header?: string) {
  const payload = JSON.stringify(body);
  return t.request({
    method: 'POST',
    url: '/api/v1/billing/webhooks/stripe/',
    headers: { 'content-type': 'application/json', 'stripe-signature': header ?? sign(payload) },
    payload,
  });
}

/** Applies every stored event of these ids the way the worker would, twice (a retried job changes nothing). */
async function applyStored(eventIds: string[]) {
  for (const id of eventIds) {
    const [row] = await rowsOf<{ id: number }>(
      t,
      sql`select id from billing_webhook_events where provider = 'stripe' and event_id = ${id}`,
    );
    if (!row) throw new Error(`event ${id} was not stored`);
    for (let run = 0; run < 2; run++) {
      await t.app.services.jobs.runHandler(
        'billing.stripe_event',
        { event_id: row.id },
        { jobId: `job-${row.id}`, accountId: null },
      );
    }
  }
}
const jobsFor = async (eventRowIds: number[]) =>
  Number(
    (
      await rowsOf<{ n: number }>(
        t,
        sql`select count(*)::int as n from pgboss.job where name = 'billing.stripe_event' and (data->'payload'->>'event_id')::int = any(${`{${eventRowIds.join(',')}}`}::int[])`,
      )
    )[0]?.n,
  );

beforeAll(async () => {
  server = createServer(fakeStripe);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  t = await buildTestApp({
    STRIPE_SECRET_KEY: 'sk_test_fake',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_BASE: `http://127.0.0.1:${port}`,
  });
  owner = await signUp(t);
  const staff = await makeStaff(t, await signUp(t));
  const pro = await t.request({
    method: 'POST',
    url: '/api/v1/admin/plans/',
    headers: staff.headers,
    payload: PRO_PLAN,
  });
  expect(pro.statusCode).toBe(201);
  const pack = await t.request({
    method: 'POST',
    url: '/api/v1/admin/credit-packs/',
    headers: staff.headers,
    payload: { name: 'Boost', slug: 'boost', credits: 1000, price_cents: 1900 },
  });
  expect(pack.statusCode).toBe(201);
});
afterAll(async () => {
  await t?.close();
  await new Promise((resolve) => server?.close(resolve));
});

describe('checkout and portal', () => {
  it('opens a subscription checkout with the account on the session, customer and subscription', async () => {
    calls.length = 0;
    const res = await t.request({
      method: 'POST',
      url: '/api/v1/billing/session/',
      headers: owner.headers,
      payload: { plan: 'pro' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.url).toMatch(/^https:\/\/checkout\.example\.test\//);
    const customer = calls.find((c) => c.path === '/v1/customers');
    expect(customer?.body.get('metadata[account_id]')).toBe(String(owner.accountId));
    const session = calls.find((c) => c.path === '/v1/checkout/sessions');
    expect(session?.body.get('mode')).toBe('subscription');
    expect(session?.body.get('client_reference_id')).toBe(String(owner.accountId));
    expect(session?.body.get('metadata[account_id]')).toBe(String(owner.accountId));
    expect(session?.body.get('subscription_data[metadata][account_id]')).toBe(String(owner.accountId));
    expect(session?.body.get('subscription_data[metadata][plan]')).toBe('pro');
    expect(session?.body.get('customer')).toMatch(/^cus_/);
    expect(session?.body.get('line_items[0][price_data][unit_amount]')).toBe('4900');
  });

  it('opens a one-payment checkout for a credit pack and reuses the customer', async () => {
    calls.length = 0;
    const res = await t.request({
      method: 'POST',
      url: '/api/v1/billing/session/',
      headers: owner.headers,
      payload: { credit_pack: 'boost' },
    });
    expect(res.statusCode).toBe(200);
    expect(calls.some((c) => c.path === '/v1/customers')).toBe(false);
    const session = calls.find((c) => c.path === '/v1/checkout/sessions');
    expect(session?.body.get('mode')).toBe('payment');
    expect(session?.body.get('metadata[credit_pack]')).toBe('boost');
    expect(session?.body.get('payment_intent_data[metadata][account_id]')).toBe(String(owner.accountId));
  });

  it('refuses the free plan and unknown slugs as field errors', async () => {
    const free = await t.request({
      method: 'POST',
      url: '/api/v1/billing/session/',
      headers: owner.headers,
      payload: { plan: 'free' },
    });
    expect(free.statusCode).toBe(400);
    expect(free.json().errors.plan).toBeDefined();
    const both = await t.request({
      method: 'POST',
      url: '/api/v1/billing/session/',
      headers: owner.headers,
      payload: { plan: 'pro', credit_pack: 'boost' },
    });
    expect(both.statusCode).toBe(400);
  });

  it('opens the portal for an account with a customer', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/billing/portal/', headers: owner.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.url).toBe('https://portal.example.test/session');
  });
});

describe('webhooks', () => {
  it('applies a credit pack purchase once, however often it is delivered', async () => {
    const who = await signUp(t);
    const before = await balanceOf(t, who.accountId);
    const body = event('checkout.session.completed', {
      id: `cs_pack_${who.accountId}`,
      object: 'checkout.session',
      mode: 'payment',
      payment_status: 'paid',
      client_reference_id: String(who.accountId),
      customer: 'cus_pack',
      metadata: { account_id: String(who.accountId), credit_pack: 'boost' },
    });
    for (let i = 0; i < 3; i++) {
      const res = await deliver(body);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ success: true, data: { received: true } });
    }
    const stored = await rowsOf<{ id: number }>(t, sql`select id from billing_webhook_events where event_id = ${body.id}`);
    expect(stored).toHaveLength(1);
    expect(await jobsFor(stored.map((r) => r.id))).toBe(1);
    await applyStored([body.id]);
    expect(await balanceOf(t, who.accountId)).toBe(before + 1000);
    expect(await ledgerSum(t, who.accountId)).toBe(before + 1000);
  });

  it('answers 400 and stores nothing for a tampered body, a wrong secret or a stale or future timestamp', async () => {
    const who = await signUp(t);
    const body = event('checkout.session.completed', {
      id: `cs_bad_${who.accountId}`,
      mode: 'payment',
      payment_status: 'paid',
      metadata: { account_id: String(who.accountId), credit_pack: 'boost' },
    });
    const payload = JSON.stringify(body);
    // One changed value, and one extra byte of whitespace: the signature covers the raw body exactly.
    const changed = JSON.parse(payload.replace('"boost"', '"mega"'));
    const tampered = payload.replace('"boost"', '"boost" ');
    const answers = [
      await deliver(changed, sign(payload)),
      await t.request({
        method: 'POST',
        url: '/api/v1/billing/webhooks/stripe/',
        headers: { 'content-type': 'application/json', 'stripe-signature': sign(payload) },
        payload: tampered,
      }),
      await deliver(body, sign(payload, { secret: 'whsec_wrong' })),
      await deliver(body, sign(payload, { timestamp: Math.floor(Date.now() / 1000) - 301 })),
      // A timestamp as far in the future is as unusable as a stale one (the package alone only looks back). A few
      // seconds past the tolerance: at +301 a check landing in the next second (a loaded machine) saw +300, inside it.
      await deliver(body, sign(payload, { timestamp: Math.floor(Date.now() / 1000) + 305 })),
      await t.request({
        method: 'POST',
        url: '/api/v1/billing/webhooks/stripe/',
        headers: { 'content-type': 'application/json' },
        payload,
      }),
    ];
    for (const res of answers) {
      expect(res.statusCode).toBe(400);
      expect(res.json().success).toBe(false);
    }
    expect(await rowsOf(t, sql`select 1 from billing_webhook_events where event_id = ${body.id}`)).toHaveLength(0);
    const before = await balanceOf(t, who.accountId);
    expect(await ledgerSum(t, who.accountId)).toBe(before);
  });

  it('grants a plan invoice once per invoice, in either API shape, even before the checkout event', async () => {
    const who = await signUp(t);
    const start = await balanceOf(t, who.accountId);
    const meta = { account_id: String(who.accountId), plan: 'pro' };
    const subId = `sub_${who.accountId}`;
    // Newer API versions: the subscription under parent.subscription_details; this arrives first.
    const newer = event('invoice.paid', {
      id: `in_${who.accountId}_1`,
      object: 'invoice',
      customer: `cus_${who.accountId}`,
      parent: { type: 'subscription_details', subscription_details: { subscription: subId, metadata: meta } },
      lines: { data: [{ period: { start: 1_800_000_000, end: 1_802_592_000 } }] },
    });
    // The same invoice delivered again as another event id (Stripe resends with a new event on replays).
    const sameInvoice = { ...newer, id: `${newer.id}_replay` };
    const checkout = event('checkout.session.completed', {
      id: `cs_sub_${who.accountId}`,
      mode: 'subscription',
      payment_status: 'paid',
      customer: `cus_${who.accountId}`,
      subscription: subId,
      client_reference_id: String(who.accountId),
      metadata: meta,
    });
    // Older API versions: invoice.subscription, metadata in subscription_details.
    const older = event('invoice.paid', {
      id: `in_${who.accountId}_2`,
      object: 'invoice',
      customer: `cus_${who.accountId}`,
      subscription: subId,
      subscription_details: { metadata: meta },
    });
    for (const e of [newer, sameInvoice, checkout, older]) expect((await deliver(e)).statusCode).toBe(200);
    await applyStored([newer.id, sameInvoice.id, checkout.id, older.id]);
    expect(await balanceOf(t, who.accountId)).toBe(start + 10_000);
    expect(await ledgerSum(t, who.accountId)).toBe(start + 10_000);
    const status = await t.request({ method: 'GET', url: '/api/v1/billing/status/', headers: who.headers });
    expect(status.json().data).toMatchObject({ plan: { slug: 'pro' }, provider: 'stripe', status: 'active' });
    const [account] = await rowsOf<{ slug: string }>(
      t,
      sql`select p.slug from auth_accounts a join billing_plans p on p.id = a.plan_id where a.id = ${who.accountId}`,
    );
    expect(account?.slug).toBe('pro');
  });

  it('follows subscription updates by event time, and a deletion returns the account to the free plan', async () => {
    const who = await signUp(t);
    const subId = `sub_upd_${who.accountId}`;
    const meta = { account_id: String(who.accountId), plan: 'pro' };
    const now = Math.floor(Date.now() / 1000);
    const sub = (status: string, extra: Record<string, unknown> = {}) => ({
      id: subId,
      object: 'subscription',
      customer: `cus_upd_${who.accountId}`,
      status,
      metadata: meta,
      cancel_at_period_end: false,
      items: { data: [{ current_period_start: now, current_period_end: now + 30 * 86400 }] },
      ...extra,
    });
    const pastDue = event('customer.subscription.updated', sub('past_due'), now - 100);
    const deleted = event('customer.subscription.deleted', sub('canceled'), now - 10);
    const staleActive = event('customer.subscription.updated', sub('active'), now - 50);
    for (const e of [pastDue, deleted, staleActive]) expect((await deliver(e)).statusCode).toBe(200);
    await applyStored([pastDue.id]);
    let status = (await t.request({ method: 'GET', url: '/api/v1/billing/status/', headers: who.headers })).json().data;
    expect(status).toMatchObject({ plan: { slug: 'pro' }, status: 'past_due', provider: 'stripe' });
    await applyStored([deleted.id, staleActive.id]);
    status = (await t.request({ method: 'GET', url: '/api/v1/billing/status/', headers: who.headers })).json().data;
    expect(status).toMatchObject({ plan: { slug: 'free' }, status: 'canceled', provider: null });
  });

  it('marks events it cannot place as ignored without failing the job', async () => {
    const orphan = event('invoice.paid', { id: 'in_orphan', subscription: 'sub_nobody', customer: 'cus_nobody' });
    expect((await deliver(orphan)).statusCode).toBe(200);
    await applyStored([orphan.id]);
    const [row] = await rowsOf<{ status: string; error: string }>(
      t,
      sql`select status, error from billing_webhook_events where event_id = ${orphan.id}`,
    );
    expect(row?.status).toBe('ignored');
    expect(row?.error).toMatch(/No account/);
  });
});
