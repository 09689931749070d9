import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createSite, rowsOf, type SignedUp, signUp } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { expectSecured } from '../../../test/security.js';
import { until } from '../../../test/wait.js';
import { type Received, type Receiver, startReceiver } from '../../../test/webhook-receiver.js';
import { type EventInput, record } from '../../core/events.js';
import { postSigned } from './events.deliveries.http.js';

const SUBS = '/api/v1/events/subscriptions';
const DELIVERIES = '/api/v1/events/deliveries';
// Long enough for a loaded machine's pauses (PGlite shares the event loop), short enough for the hang tests.
const TIMEOUT_MS = 1500;

let t: TestApp;
let receiver: Receiver;
let owner: SignedUp;
let stranger: SignedUp;

beforeAll(async () => {
  receiver = await startReceiver();
  t = await buildTestApp({
    WORKER: 'true',
    JOBS_POLL_MS: '50',
    // Retries 50 ms apart (±20 %), three of them: the real schedule's shape at test speed.
    WEBHOOK_RETRY_SCHEDULE: '0.05,0.1,0.2',
    WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
  });
  owner = await signUp(t);
  stranger = await signUp(t);
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

const as = (who: { headers: Record<string, string> }) => ({
  get: (url: string) => t.request({ method: 'GET', url, headers: who.headers }),
  post: (url: string, payload?: unknown) =>
    t.request({ method: 'POST', url, headers: who.headers, ...(payload === undefined ? {} : { payload: payload as object }) }),
  patch: (url: string, payload: unknown) => t.request({ method: 'PATCH', url, headers: who.headers, payload: payload as object }),
  put: (url: string, payload: unknown) => t.request({ method: 'PUT', url, headers: who.headers, payload: payload as object }),
  delete: (url: string) => t.request({ method: 'DELETE', url, headers: who.headers }),
});

async function subscribe(path: string, body: Record<string, unknown> = {}, who = owner) {
  const res = await as(who).post(`${SUBS}/`, { url: receiver.url(path), event_types: ['test.*'], ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data as { id: number; secret: string; url: string; event_types: string[] };
}

/** Events recorded as a module would, in a transaction of their own; their ids. */
function emit(who: SignedUp, ...events: Partial<EventInput>[]) {
  return t.database.db.transaction((tx) =>
    record(tx, ...events.map((e) => ({ account_id: who.accountId, type: 'test.happened', source_agent: 'api' as const, ...e }))),
  );
}

/** Polls the API until `check` passes (no fixed sleep). */

async function deliveriesOf(subscriptionId: number, who = owner) {
  const res = await as(who).get(`${DELIVERIES}/?subscription_id=${subscriptionId}&page_size=200`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data.results as { id: number; event_id: number; status: string; attempts: number }[];
}

async function detail(id: number) {
  const res = await as(owner).get(`${DELIVERIES}/${id}/`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data;
}

function verify(secret: string, request: Received) {
  return new Webhook(secret).verify(request.body, {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  }) as { type: string; timestamp: string; data: { id: number; type: string; payload: Record<string, unknown> } };
}

describe('events/subscriptions/', () => {
  it('creates a subscription, shows its secret once, lists and updates it', async () => {
    const created = await subscribe('/crud', { description: 'CRM sync', event_types: ['content.*', 'site.created'] });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(created).toMatchObject({ url: receiver.url('/crud'), is_active: true, description: 'CRM sync' });
    const shown = (await as(owner).get(`${SUBS}/${created.id}/`)).json().data;
    expect(shown).not.toHaveProperty('secret');
    expect(JSON.stringify((await as(owner).get(`${SUBS}/`)).json())).not.toContain(created.secret);
    // At rest it is a ciphertext bound to the account: a copy of the database does not give it away.
    const [stored] = await rowsOf<{ secret: string }>(t, sql`select secret from events_subscriptions where id = ${created.id}`);
    expect(stored?.secret).toMatch(/^v1\./);
    expect(stored?.secret).not.toContain(created.secret.slice(6));
    const patched = await as(owner).patch(`${SUBS}/${created.id}/`, { description: 'CRM', is_active: false });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().data).toMatchObject({ description: 'CRM', is_active: false });
    const put = await as(owner).put(`${SUBS}/${created.id}/`, { url: receiver.url('/crud2'), event_types: ['*'] });
    expect(put.json().data).toMatchObject({ url: receiver.url('/crud2'), event_types: ['*'] });
    const feed = (await as(owner).get(`/api/v1/events/?object_type=subscription&object_id=${created.id}`)).json().data.results;
    expect(feed.map((e: { type: string }) => e.type)).toEqual([
      'subscription.updated',
      'subscription.updated',
      'subscription.created',
    ]);
    expect(JSON.stringify(feed)).not.toContain(created.secret);
    expect((await as(owner).delete(`${SUBS}/${created.id}/`)).statusCode).toBe(204);
    expect((await as(owner).get(`${SUBS}/${created.id}/`)).statusCode).toBe(404);
  });

  it('refuses bad urls, bad event types and unknown fields, all at once', async () => {
    const res = await as(owner).post(`${SUBS}/`, { url: 'ftp://example.com/x', event_types: ['Content', 'content.*x', '*'] });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe('validation_error');
    expect(Object.keys(body.errors).sort()).toEqual(['event_types', 'non_field_errors', 'url']);
    expect(body.errors.event_types).toHaveLength(2);
    for (const payload of [
      { url: 'not a url', event_types: ['*'] },
      { url: 'https://user:pw@example.com/', event_types: ['*'] },
      { url: receiver.url('/x'), event_types: [] },
      { url: receiver.url('/x'), event_types: ['*', '*'] },
      { url: receiver.url('/x'), event_types: ['*'], colour: 'red' },
      { event_types: ['*'] },
    ]) {
      const bad = await as(owner).post(`${SUBS}/`, payload);
      expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
      expect(bad.json().code).toBe('validation_error');
    }
  });

  it('is admin-only, and another account sees none of it', async () => {
    const sub = await subscribe('/secured');
    await expectSecured(t, { method: 'GET', url: `${SUBS}/`, owner, needs: 'admin' });
    await expectSecured(t, { method: 'GET', url: `${SUBS}/${sub.id}/`, owner, needs: 'admin', objectScoped: true });
    await expectSecured(t, {
      method: 'PATCH',
      url: `${SUBS}/${sub.id}/`,
      payload: { description: 'x' },
      owner,
      needs: 'admin',
      objectScoped: true,
    });
    await expectSecured(t, {
      method: 'POST',
      url: `${SUBS}/${sub.id}/rotate_secret/`,
      owner,
      needs: 'admin',
      objectScoped: true,
    });
    expect((await as(stranger).get(`${SUBS}/${sub.id}/`)).statusCode).toBe(404);
    expect((await as(stranger).delete(`${SUBS}/${sub.id}/`)).statusCode).toBe(404);
    expect((await as(stranger).get(`${SUBS}/`)).json().data.results).toEqual([]);
    // A key bound to one site would receive every site's events through a subscription: refused.
    const site = await createSite(t, owner);
    const boundKey = await createApiKey(t, owner, { scopes: ['admin'], site_id: site.id });
    expect((await as(boundKey).get(`${SUBS}/`)).statusCode).toBe(403);
    const refused = await as(boundKey).post(`${SUBS}/`, { url: 'nonsense', event_types: ['*'] });
    expect(refused.statusCode).toBe(403);
  });
});

describe('delivery', () => {
  it('POSTs each matching event once, signed the Standard Webhooks way, in event order', async () => {
    const sub = await subscribe('/ok', { event_types: ['test.*', 'content.published'] });
    const ids = await emit(
      owner,
      { type: 'test.happened', payload: { n: 1 } },
      { type: 'other.happened' },
      { type: 'content.published', object_type: 'content', object_id: 3 },
      { type: 'test.again', payload: { n: 2 } },
    );
    // Another account's matching event never reaches this subscription.
    await emit(stranger, { type: 'test.happened' });
    const got = await receiver.waitFor('/ok', 3);
    const bodies = got.map((r) => verify(sub.secret, r));
    expect(bodies.map((b) => b.data.id)).toEqual([ids[0], ids[2], ids[3]]);
    expect(bodies.map((b) => b.type)).toEqual(['test.happened', 'content.published', 'test.again']);
    expect(got.map((r) => r.headers['webhook-id'])).toEqual([ids[0], ids[2], ids[3]].map(String));
    expect(bodies[0]?.data.payload).toEqual({ n: 1 });
    const log = await until(
      'three successes',
      () => deliveriesOf(sub.id),
      (rows) => rows.length === 3 && rows.every((r) => r.status === 'succeeded'),
    );
    expect(log.map((r) => r.attempts)).toEqual([1, 1, 1]);
    const one = await detail(log[0]?.id as number);
    expect(one.attempt_log).toEqual([
      expect.objectContaining({ attempt: 1, succeeded: true, response_code: 200, response_body: 'ok', error: null }),
    ]);
    // A forged or altered body fails verification with the same secret.
    const forged = { ...(got[0] as Received), body: (got[0] as Received).body.replace('test.happened', 'test.forged') };
    expect(() => verify(sub.secret, forged)).toThrow();
    expect(receiver.at('/ok')).toHaveLength(3);
  });

  it('a backlog longer than one job goes on in order, each event exactly once', async () => {
    const sub = await subscribe('/backlog', { event_types: ['backlog.*'] });
    // Past the 100 attempts one job makes in a row: the rest continue in a job of their own.
    const ids = await emit(owner, ...Array.from({ length: 130 }, (_, n) => ({ type: 'backlog.item', payload: { n } })));
    const got = await receiver.waitFor('/backlog', 130, 60_000);
    await until(
      'every delivery recorded',
      () => deliveriesOf(sub.id),
      (rows) => rows.length === 130 && rows.every((r) => r.status === 'succeeded' && r.attempts === 1),
    );
    expect(receiver.at('/backlog')).toHaveLength(130);
    expect(got.map((r) => Number(r.headers['webhook-id']))).toEqual(ids);
    expect(receiver.maxInFlight('/backlog')).toBe(1);
  });

  it('delivers nothing for an event whose transaction rolled back', async () => {
    const sub = await subscribe('/rollback');
    await t.database.db
      .transaction(async (tx) => {
        await record(tx, { account_id: owner.accountId, type: 'test.rolled_back', source_agent: 'api' });
        throw new Error('roll back');
      })
      .catch(() => {});
    const [committed] = await emit(owner, { type: 'test.committed' });
    const got = await receiver.waitFor('/rollback', 1);
    expect(verify(sub.secret, got[0] as Received).data.id).toBe(committed);
    expect((await deliveriesOf(sub.id)).map((d) => d.event_id)).toEqual([committed]);
  });

  it('retries after a 500 with growing gaps, then succeeds; the log tells each attempt', async () => {
    const sub = await subscribe('/status/500,502,200');
    const [id] = await emit(owner, {});
    const got = await receiver.waitFor('/status/500,502,200', 3);
    expect(got.map((r) => r.headers['webhook-id'])).toEqual([String(id), String(id), String(id)]);
    for (const request of got) expect(verify(sub.secret, request).data.id).toBe(id);
    const gaps = [(got[1]?.at ?? 0) - (got[0]?.at ?? 0), (got[2]?.at ?? 0) - (got[1]?.at ?? 0)];
    // 50 ms then 100 ms, each ±20 %.
    expect(gaps[0]).toBeGreaterThanOrEqual(40);
    expect(gaps[1]).toBeGreaterThanOrEqual(80);
    const [delivery] = await until(
      'the success',
      () => deliveriesOf(sub.id),
      (rows) => rows[0]?.status === 'succeeded',
    );
    const log = (await detail(delivery?.id as number)).attempt_log;
    expect(log.map((a: { response_code: number }) => a.response_code)).toEqual([500, 502, 200]);
    expect(log.map((a: { succeeded: boolean }) => a.succeeded)).toEqual([false, false, true]);
    expect(log[0].response_body).toHaveLength(2048);
    expect(log[0].error).toBe('The receiver answered 500.');
    for (const a of log) expect(a.latency_ms).toBeGreaterThanOrEqual(0);
    expect((await as(owner).get(`${SUBS}/${sub.id}/`)).json().data.failing_since).toBeNull();
  });

  it('times out a receiver that hangs, and retries it', async () => {
    const sub = await subscribe('/hang');
    const [id] = await emit(owner, {});
    const log = await until(
      'two attempts',
      async () => {
        const [delivery] = await deliveriesOf(sub.id);
        return delivery ? (await detail(delivery.id)).attempt_log : [];
      },
      (attempts) => attempts.length >= 2,
      3 * TIMEOUT_MS + 5000,
    );
    for (const a of log.slice(0, 2)) {
      expect(a).toMatchObject({ succeeded: false, response_code: null, error: `No answer within ${TIMEOUT_MS} ms.` });
      expect(a.latency_ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    }
    expect(receiver.at('/hang').map((r) => r.headers['webhook-id'])).toEqual([String(id), String(id)]);
    expect((await as(owner).get(`${SUBS}/${sub.id}/`)).json().data.failing_since).not.toBeNull();
    expect((await as(owner).delete(`${SUBS}/${sub.id}/`)).statusCode).toBe(204);
  });

  it('fails a delivery for good once the retry schedule is used up', async () => {
    const sub = await subscribe('/status/500');
    await emit(owner, {});
    const [delivery] = await until(
      'the delivery to fail',
      () => deliveriesOf(sub.id),
      (rows) => rows[0]?.status === 'failed',
    );
    // The first attempt and one retry per delay of the schedule (three).
    expect(delivery?.attempts).toBe(4);
    const log = (await detail(delivery?.id as number)).attempt_log;
    expect(log.map((a: { response_code: number }) => a.response_code)).toEqual([500, 500, 500, 500]);
    expect(receiver.at('/status/500')).toHaveLength(4);
    expect((await detail(delivery?.id as number)).next_attempt_at).toBeNull();
  });

  it('a slow receiver gets one request at a time, and never delays another subscription', async () => {
    const slow = await subscribe('/hang', { event_types: ['slow.*'] });
    const fast = await subscribe('/slow/5', { event_types: ['slow.*'] });
    await emit(owner, { type: 'slow.one' }, { type: 'slow.two' }, { type: 'slow.three' });
    // The fast one has all three while the hanging one is still on its first attempt of the first event.
    const got = await receiver.waitFor('/slow/5', 3, TIMEOUT_MS - 100);
    expect(got.map((r) => verify(fast.secret, r).type)).toEqual(['slow.one', 'slow.two', 'slow.three']);
    expect(receiver.maxInFlight('/slow/5')).toBe(1);
    const hung = receiver.at('/hang').filter((r) => r.body.includes('"slow.'));
    expect(hung.map((r) => verify(slow.secret, r).type)).toEqual(['slow.one']);
    // Deleted while its attempt hangs: the attempt's job finds its subscription gone and records nothing.
    expect((await as(owner).delete(`${SUBS}/${slow.id}/`)).statusCode).toBe(204);
    expect(receiver.maxInFlight('/hang')).toBe(1);
  });

  it('redeliver sends a delivery again, as a new attempt', async () => {
    const sub = await subscribe('/redeliver');
    const [id] = await emit(owner, {});
    await receiver.waitFor('/redeliver', 1);
    const [delivery] = await until(
      'the success',
      () => deliveriesOf(sub.id),
      (rows) => rows[0]?.status === 'succeeded',
    );
    const res = await as(owner).post(`${DELIVERIES}/${delivery?.id}/redeliver/`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data.status).toBe('pending');
    const again = await receiver.waitFor('/redeliver', 2);
    expect(verify(sub.secret, again[1] as Received).data.id).toBe(id);
    await until(
      'two attempts',
      () => detail(delivery?.id as number),
      (d) => d.status === 'succeeded' && d.attempt_log.length === 2,
    );
    const feed = (await as(owner).get(`/api/v1/events/?type=delivery.redelivered&object_id=${delivery?.id}`)).json().data;
    expect(feed.results).toHaveLength(1);
    // Someone else's delivery is not found, and a redelivery is admin-only.
    expect((await as(stranger).post(`${DELIVERIES}/${delivery?.id}/redeliver/`)).statusCode).toBe(404);
    expect((await as(stranger).get(`${DELIVERIES}/${delivery?.id}/`)).statusCode).toBe(404);
    expect((await as(stranger).get(`${DELIVERIES}/?subscription_id=${sub.id}`)).json().data.results).toEqual([]);
    await expectSecured(t, {
      method: 'POST',
      url: `${DELIVERIES}/${delivery?.id}/redeliver/`,
      owner,
      needs: 'admin',
      objectScoped: true,
    });
    await expectSecured(t, { method: 'GET', url: `${DELIVERIES}/${delivery?.id}/`, owner, needs: 'admin', objectScoped: true });
  });

  it('filters deliveries by subscription, status and event type, and refuses unknown filters', async () => {
    const sub = await subscribe('/status/500,200', { event_types: ['filter.*'] });
    await emit(owner, { type: 'filter.a' }, { type: 'filter.b' });
    await until(
      'both delivered',
      () => deliveriesOf(sub.id),
      (rows) => rows.length === 2 && rows.every((r) => r.status === 'succeeded'),
    );
    const q = (query: string) => as(owner).get(`${DELIVERIES}/?subscription_id=${sub.id}&${query}`);
    expect((await q('event_type=filter.b')).json().data.results.map((d: { event_type: string }) => d.event_type)).toEqual([
      'filter.b',
    ]);
    expect((await q('status=succeeded')).json().data.results).toHaveLength(2);
    expect((await q('status__in=pending,failed')).json().data.results).toHaveLength(0);
    expect((await q('status=lost')).statusCode).toBe(400);
    expect((await q('colour=red')).statusCode).toBe(400);
  });

  it('a 410 disables the subscription, with an event', async () => {
    const sub = await subscribe('/status/410');
    await emit(owner, {}, {});
    await until(
      'the subscription to be disabled',
      async () => (await as(owner).get(`${SUBS}/${sub.id}/`)).json().data,
      (s) => s.is_active === false,
    );
    const shown = (await as(owner).get(`${SUBS}/${sub.id}/`)).json().data;
    expect(shown.disabled_reason).toBe('The receiver answered 410 Gone.');
    const rows = await deliveriesOf(sub.id);
    expect(rows.map((r) => r.status)).toEqual(['failed', 'failed']);
    expect(receiver.at('/status/410')).toHaveLength(1);
    const feed = (await as(owner).get(`/api/v1/events/?type=subscription.disabled&object_id=${sub.id}`)).json().data.results;
    expect(feed).toHaveLength(1);
    expect(feed[0]).toMatchObject({ source_agent: 'worker', payload: { reason: 'The receiver answered 410 Gone.' } });
    // Disabled: a new event is not delivered, and a redelivery is a conflict until it is turned back on.
    await emit(owner, {});
    expect(await deliveriesOf(sub.id)).toHaveLength(2);
    const conflict = await as(owner).post(`${DELIVERIES}/${rows[0]?.id}/redeliver/`);
    expect(conflict.statusCode).toBe(409);
    const on = (await as(owner).patch(`${SUBS}/${sub.id}/`, { is_active: true })).json().data;
    expect(on).toMatchObject({ is_active: true, disabled_reason: null, failing_since: null });
  });

  it('a subscription failing for five days in a row is disabled', async () => {
    const sub = await subscribe('/status/503');
    await t.database.db.execute(
      sql`update events_subscriptions set failing_since = now() - interval '5 days 1 minute' where id = ${sub.id}`,
    );
    await emit(owner, {});
    const shown = await until(
      'the subscription to be disabled',
      async () => (await as(owner).get(`${SUBS}/${sub.id}/`)).json().data,
      (s) => s.is_active === false,
    );
    expect(shown.disabled_reason).toBe('Every delivery failed for 5 days.');
    expect(receiver.at('/status/503')).toHaveLength(1);
  });

  it('after rotate_secret, deliveries are signed with the new and the old secret for 24 hours', async () => {
    const sub = await subscribe('/rotate');
    const res = await as(owner).post(`${SUBS}/${sub.id}/rotate_secret/`);
    expect(res.statusCode, res.body).toBe(200);
    const rotated = res.json().data;
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(sub.secret);
    const expires = new Date(rotated.previous_secret_expires_at).getTime() - Date.now();
    expect(Math.abs(expires - 24 * 3600_000)).toBeLessThan(60_000);
    await emit(owner, {});
    const [got] = await receiver.waitFor('/rotate', 1);
    expect(String(got?.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(rotated.secret, got as Received).type).toBe('test.happened');
    expect(verify(sub.secret, got as Received).type).toBe('test.happened');
    // Once the old one has expired, only the new one signs.
    await t.database.db.execute(
      sql`update events_subscriptions set previous_secret_expires_at = now() - interval '1 second' where id = ${sub.id}`,
    );
    const [second] = await emit(owner, {});
    // The request of that event (on a loaded machine an earlier attempt may have been retried meanwhile).
    const later = await until(
      'the second event',
      async () => receiver.at('/rotate').find((r) => r.headers['webhook-id'] === String(second)),
      (found) => found !== undefined,
    );
    expect(String(later?.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => verify(sub.secret, later as Received)).toThrow();
    expect(verify(rotated.secret, later as Received).type).toBe('test.happened');
  });

  it('a job run twice records one attempt', async () => {
    const sub = await subscribe('/twice');
    await emit(owner, {});
    const [delivery] = await until(
      'the success',
      () => deliveriesOf(sub.id),
      (rows) => rows[0]?.status === 'succeeded',
    );
    // The same job again (the queue's at-least-once redelivery): its lease is gone, so nothing is sent or recorded.
    const [job] = await rowsOf<{ data: { payload: Record<string, unknown> } }>(
      t,
      sql`select data from pgboss.job where name = 'events.deliver' and data->'payload'->>'delivery_id' = ${String(delivery?.id)}`,
    );
    const outcome = await t.app.services.jobs.runHandler('events.deliver', job?.data.payload, {
      jobId: 'again',
      accountId: null,
    });
    expect(outcome).toEqual({ skipped: 'stale' });
    expect((await detail(delivery?.id as number)).attempt_log).toHaveLength(1);
    expect(receiver.at('/twice')).toHaveLength(1);
  });
});

describe('private addresses', () => {
  let strict: TestApp;
  beforeAll(async () => {
    strict = await buildTestApp({ WEBHOOK_ALLOW_PRIVATE: 'false' }, { database: t.database });
  });
  afterAll(() => strict?.close());

  it('refuses loopback, private and reserved receivers when not allowed', async () => {
    for (const url of [
      'http://127.0.0.1:8000/hook',
      'http://localhost/hook',
      'http://[::1]/hook',
      'http://10.1.2.3/hook',
      'http://192.168.0.10/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::ffff:127.0.0.1]/hook',
      'http://0.0.0.0/hook',
    ]) {
      const res = await strict.request({
        method: 'POST',
        url: `${SUBS}/`,
        headers: owner.headers,
        payload: { url, event_types: ['*'] },
      });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().errors.url[0], url).toMatch(/not a public address/);
    }
  });

  it('refuses at delivery time too, on the address actually connected to', async () => {
    for (const url of [receiver.url('/never'), receiver.url('/never').replace('127.0.0.1', 'localhost')]) {
      const outcome = await postSigned({
        url,
        messageId: '1',
        body: '{}',
        secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
        timeoutMs: 1000,
        allowPrivate: false,
      });
      expect(outcome.status, url).toBeNull();
      expect(outcome.error, url).toMatch(/not a public one/);
    }
    expect(receiver.at('/never')).toHaveLength(0);
  });
});
