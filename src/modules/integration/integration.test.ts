import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createSector, createSite, rowsOf, type SignedUp, signUp } from '../../../test/factories.js';
import { type FakeWordPress, startFakeWordPress } from '../../../test/fake-wordpress.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { expectSecured } from '../../../test/security.js';
import { found } from '../../../test/wait.js';
import { publicFetch, UnsafeAddressError } from '../../core/public-network.js';

/**
 * Site integrations through the API: CRUD with discovery and encrypted credentials (never answered, never
 * logged), one per platform and site, tenancy and roles, the webhook secret and its rotation, and incoming
 * webhooks (verified, stored once, handled by a job that records `webhook.ingested`).
 */

const PATH = '/api/v1/integration/integrations';
const APP_PASSWORD = 'abcd EFGH ijkl MNOP qrst UVWX';
const lines: string[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    done();
  },
});

let t: TestApp;
let wp: FakeWordPress;
let owner: SignedUp;
let stranger: SignedUp;
let siteId: number;
let otherSiteId: number;
let created: { id: number; webhook_secret: string };

async function call(who: SignedUp, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, headers = {}) {
  return t.request({ method, url, headers: { ...who.headers, ...headers }, ...(payload ? { payload } : {}) });
}

beforeAll(async () => {
  wp = await startFakeWordPress({ username: 'editor', password: APP_PASSWORD });
  t = await buildTestApp({ WORKER: 'true', JOBS_POLL_MS: '50', LOG_LEVEL: 'debug' }, { logStream });
  owner = await signUp(t);
  stranger = await signUp(t);
  siteId = (await createSite(t, owner, 'Blog')).id;
  otherSiteId = (await createSite(t, owner, 'Shop')).id;
  await createSector(t, owner, siteId, 'News');
  const res = await call(owner, 'POST', `${PATH}/`, {
    site_id: siteId,
    platform: 'wordpress',
    base_url: `${wp.baseUrl}/`,
    username: 'editor',
    credentials: APP_PASSWORD,
  });
  expect(res.statusCode, res.body).toBe(201);
  created = res.json().data;
});
afterAll(async () => {
  await t?.close();
  await wp?.close();
});

describe('integration/integrations/', () => {
  it('creates a WordPress integration with its REST root discovered and secrets encrypted', async () => {
    const res = await call(owner, 'GET', `${PATH}/${created.id}/`);
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual({
      id: created.id,
      account_id: owner.accountId,
      site_id: siteId,
      platform: 'wordpress',
      base_url: wp.baseUrl,
      rest_root: `${wp.baseUrl}/wp-json/`,
      username: 'editor',
      has_credentials: true,
      has_webhook_secret: true,
      status: 'active',
      last_checked_at: null,
      last_error: null,
      last_synced_at: null,
      details: {},
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(created.webhook_secret).toMatch(/^whsec_[\w-]{43}$/);
    const [row] = await rowsOf<{ credentials: string; webhook_secret: string }>(
      t,
      sql`select credentials, webhook_secret from integration_integrations where id = ${created.id}`,
    );
    expect(row?.credentials).toMatch(/^v1\./);
    expect(row?.webhook_secret).toMatch(/^v1\./);
    expect(row?.credentials).not.toContain('abcd');
    expect(row?.webhook_secret).not.toContain(created.webhook_secret.slice(6));
  });

  it('never answers or logs the application password or the stored secrets', async () => {
    const [row] = await rowsOf<{ credentials: string; webhook_secret: string }>(
      t,
      sql`select credentials, webhook_secret from integration_integrations where id = ${created.id}`,
    );
    const secrets = [APP_PASSWORD, APP_PASSWORD.replace(/\s/g, ''), row?.credentials ?? '', row?.webhook_secret ?? ''];
    const answers = [
      await call(owner, 'GET', `${PATH}/`),
      await call(owner, 'GET', `${PATH}/${created.id}/`),
      // Refused bodies carrying the password: a duplicate, a field error, a bad type elsewhere.
      await call(owner, 'POST', `${PATH}/`, {
        site_id: siteId,
        platform: 'wordpress',
        base_url: wp.baseUrl,
        username: 'editor',
        credentials: APP_PASSWORD,
      }),
      await call(owner, 'POST', `${PATH}/`, {
        site_id: otherSiteId,
        platform: 'wordpress',
        base_url: 'ftp://x',
        credentials: APP_PASSWORD,
      }),
      await call(owner, 'PATCH', `${PATH}/${created.id}/`, { credentials: APP_PASSWORD, status: 'broken' }),
      await call(owner, 'POST', `${PATH}/`, {
        site_id: otherSiteId,
        platform: 'wordpress',
        base_url: `${wp.baseUrl}/nothing`,
        credentials: APP_PASSWORD,
        username: 'x',
      }),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 409, 400, 400, 400]);
    const logged = lines.join('\n');
    expect(logged).toContain('incoming request');
    for (const answer of answers) for (const secret of secrets) expect(answer.body).not.toContain(secret);
    for (const secret of secrets) expect(logged).not.toContain(secret);
  });

  it('reports every field error at once', async () => {
    const res = await call(owner, 'POST', `${PATH}/`, {
      site_id: otherSiteId,
      platform: 'ftp',
      base_url: 'ftp://files.example.com',
      extra: 1,
    });
    expect(res.statusCode).toBe(400);
    expect(Object.keys(res.json().errors).sort()).toEqual(['base_url', 'extra', 'non_field_errors', 'platform']);
    const missing = await call(owner, 'POST', `${PATH}/`, {});
    expect(Object.keys(missing.json().errors).sort()).toEqual(['base_url', 'non_field_errors', 'platform', 'site_id']);
    const noUser = await call(owner, 'POST', `${PATH}/`, {
      site_id: otherSiteId,
      platform: 'wordpress',
      base_url: wp.baseUrl,
      credentials: APP_PASSWORD,
    });
    expect(noUser.json().errors.username).toEqual([
      'The WordPress user of the application password is required with credentials.',
    ]);
  });

  it('refuses an address with no WordPress REST API on base_url', async () => {
    const res = await call(owner, 'POST', `${PATH}/`, {
      site_id: otherSiteId,
      platform: 'wordpress',
      base_url: `${wp.baseUrl}/nothing`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.base_url[0]).toMatch(/^No WordPress REST API here: no WordPress REST API found at/);
  });

  it('allows one integration per site and platform', async () => {
    const again = await call(owner, 'POST', `${PATH}/`, { site_id: siteId, platform: 'wordpress', base_url: wp.baseUrl });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('conflict');
    const hook = await call(owner, 'POST', `${PATH}/`, {
      site_id: siteId,
      platform: 'webhook',
      base_url: 'https://hooks.example.com/in',
    });
    expect(hook.statusCode, hook.body).toBe(201);
    expect(hook.json().data).toMatchObject({
      platform: 'webhook',
      rest_root: null,
      has_credentials: false,
      has_webhook_secret: true,
    });
    const list = await call(owner, 'GET', `${PATH}/?site_id=${siteId}&ordering=created_at`);
    expect(list.json().data.results.map((r: { platform: string }) => r.platform)).toEqual(['wordpress', 'webhook']);
    const filtered = await call(owner, 'GET', `${PATH}/?platform=webhook`);
    expect(filtered.json().data.count).toBe(1);
    expect((await call(owner, 'DELETE', `${PATH}/${hook.json().data.id}/`)).statusCode).toBe(204);
    expect((await call(owner, 'GET', `${PATH}/${hook.json().data.id}/`)).statusCode).toBe(404);
  });

  it('updates with If-Match, re-encrypts a new password and records the changed fields only', async () => {
    const detail = await call(owner, 'GET', `${PATH}/${created.id}/`);
    const stale = await call(owner, 'PATCH', `${PATH}/${created.id}/`, { status: 'disabled' }, { 'if-match': '"stale"' });
    expect(stale.statusCode).toBe(412);
    const before = (
      await rowsOf<{ credentials: string }>(t, sql`select credentials from integration_integrations where id = ${created.id}`)
    )[0];
    const res = await call(
      owner,
      'PATCH',
      `${PATH}/${created.id}/`,
      { status: 'disabled', credentials: APP_PASSWORD },
      { 'if-match': detail.headers.etag as string },
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data.status).toBe('disabled');
    const after = (
      await rowsOf<{ credentials: string }>(t, sql`select credentials from integration_integrations where id = ${created.id}`)
    )[0];
    expect(after?.credentials).not.toBe(before?.credentials);
    const events = (await call(owner, 'GET', `/api/v1/events/?type=integration.updated&object_id=${created.id}`)).json().data
      .results;
    expect(events[0].payload).toMatchObject({ fields: ['credentials', 'status'] });
    expect(JSON.stringify(events)).not.toContain('v1.');
    const back = await call(owner, 'PATCH', `${PATH}/${created.id}/`, { status: 'active' });
    expect(back.json().data.status).toBe('active');
  });

  it('checks the connection, and says so when the stored password no longer decrypts', async () => {
    const good = await call(owner, 'POST', `${PATH}/${created.id}/test_connection/`);
    expect(good.json().data).toMatchObject({ ok: true, code: null, integration: { status: 'active' } });
    const [row] = await rowsOf<{ credentials: string }>(
      t,
      sql`select credentials from integration_integrations where id = ${created.id}`,
    );
    await t.database.db.execute(
      sql`update integration_integrations set credentials = ${`v1.retired-key.${row?.credentials.split('.').slice(2).join('.')}`} where id = ${created.id}`,
    );
    const requestsBefore = wp.requests.length;
    const bad = await call(owner, 'POST', `${PATH}/${created.id}/test_connection/`);
    expect(bad.json().data).toMatchObject({ ok: false, code: 'no_credentials', integration: { status: 'error' } });
    expect(bad.json().data.message).toMatch(
      /^The stored application password \(`credentials`\) cannot be read \(encrypted with a key that is not configured/,
    );
    expect(wp.requests.length).toBe(requestsBefore);
    await t.database.db.execute(
      sql`update integration_integrations set credentials = ${row?.credentials ?? null} where id = ${created.id}`,
    );
  });

  it('re-encrypts under a new INTEGRATION_KEY at the next check, reading the old one from INTEGRATION_KEYS_PREVIOUS', async () => {
    const oldKey = Buffer.alloc(32, 7).toString('base64');
    const newKey = Buffer.alloc(32, 9).toString('base64');
    const keyIdOf = async () =>
      (
        await rowsOf<{ credentials: string; webhook_secret: string }>(
          t,
          sql`select credentials, webhook_secret from integration_integrations where id = ${created.id}`,
        )
      ).map((r) => [r.credentials.split('.')[1], r.webhook_secret.split('.')[1]])[0];
    const before = await keyIdOf();
    const first = await buildTestApp({ INTEGRATION_KEY: oldKey }, { database: t.database });
    const second = await buildTestApp({ INTEGRATION_KEY: newKey, INTEGRATION_KEYS_PREVIOUS: oldKey }, { database: t.database });
    try {
      // The file's app sealed them under its own generated key: the app with the old key re-seals them on a check...
      const rotatedSecret = await first.request({
        method: 'POST',
        url: `${PATH}/${created.id}/rotate_secret/`,
        headers: owner.headers,
      });
      const patch = await first.request({
        method: 'PATCH',
        url: `${PATH}/${created.id}/`,
        headers: owner.headers,
        payload: { credentials: APP_PASSWORD },
      });
      expect(patch.statusCode, patch.body).toBe(200);
      const underOld = await keyIdOf();
      expect(underOld).not.toEqual(before);
      // ...and the app whose current key is new reads them with the previous one, then re-seals them under its own.
      const check = await second.request({
        method: 'POST',
        url: `${PATH}/${created.id}/test_connection/`,
        headers: owner.headers,
      });
      expect(check.json().data).toMatchObject({ ok: true });
      const underNew = await keyIdOf();
      expect(underNew?.[0]).not.toBe(underOld?.[0]);
      expect(underNew?.[0]).toBe(underNew?.[1]);
      const secret = rotatedSecret.json().data.webhook_secret as string;
      const body = JSON.stringify({ id: `after-rotation-${Date.now()}` });
      const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      const delivered = await second.request({
        method: 'POST',
        url: '/api/v1/integration/webhooks/wordpress/',
        headers: { 'content-type': 'application/json', 'x-integration-id': String(created.id), 'x-signature': signature },
        payload: body,
      });
      expect(delivered.statusCode, delivered.body).toBe(200);
      created = { ...created, webhook_secret: secret };
    } finally {
      await first.close();
      await second.close();
    }
    // Back under the file's own key for the tests that follow.
    const restored = await call(owner, 'PATCH', `${PATH}/${created.id}/`, { credentials: APP_PASSWORD });
    expect(restored.statusCode).toBe(200);
    const again = await call(owner, 'POST', `${PATH}/${created.id}/rotate_secret/`);
    created = { ...created, webhook_secret: again.json().data.webhook_secret };
  });

  it('keeps other accounts out (404) and refuses their sites (400 on site_id)', async () => {
    expect((await call(stranger, 'GET', `${PATH}/${created.id}/`)).statusCode).toBe(404);
    expect((await call(stranger, 'PATCH', `${PATH}/${created.id}/`, { status: 'disabled' })).statusCode).toBe(404);
    expect((await call(stranger, 'POST', `${PATH}/${created.id}/rotate_secret/`)).statusCode).toBe(404);
    expect((await call(stranger, 'GET', `${PATH}/`)).json().data.count).toBe(0);
    const foreign = await call(stranger, 'POST', `${PATH}/`, {
      site_id: siteId,
      platform: 'webhook',
      base_url: 'https://x.example',
    });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().errors.site_id).toEqual(['Unknown site.']);
  });

  it('shows a member limited to some sites only those sites’ integrations', async () => {
    const limited = await addMember(t, owner, 'editor', [otherSiteId]);
    expect((await call(limited, 'GET', `${PATH}/`)).json().data.count).toBe(0);
    expect((await call(limited, 'GET', `${PATH}/${created.id}/`)).statusCode).toBe(404);
  });

  it('is secured like every route: admins write, editors check and sync, viewers read', async () => {
    await expectSecured(t, { method: 'GET', url: `${PATH}/`, owner });
    await expectSecured(t, { method: 'GET', url: `${PATH}/${created.id}/`, owner, objectScoped: true });
    await expectSecured(t, {
      method: 'POST',
      url: `${PATH}/`,
      owner,
      needs: 'admin',
      payload: { site_id: otherSiteId, platform: 'webhook', base_url: 'https://x.example' },
      siteScopedBody: true,
    });
    await expectSecured(t, {
      method: 'PATCH',
      url: `${PATH}/${created.id}/`,
      owner,
      needs: 'admin',
      objectScoped: true,
      payload: {},
    });
    await expectSecured(t, {
      method: 'POST',
      url: `${PATH}/${created.id}/rotate_secret/`,
      owner,
      needs: 'admin',
      objectScoped: true,
    });
    await expectSecured(t, { method: 'POST', url: `${PATH}/${created.id}/test_connection/`, owner, objectScoped: true });
    await expectSecured(t, {
      method: 'POST',
      url: `${PATH}/${created.id}/sync/`,
      owner,
      objectScoped: true,
      payload: { sector_id: 1 },
    });
    await expectSecured(t, { method: 'DELETE', url: `${PATH}/999999/`, owner, needs: 'admin' });
  });
});

describe('addresses on the server’s own network (INTEGRATION_ALLOW_PRIVATE off)', () => {
  let strict: TestApp;
  beforeAll(async () => {
    // The same database, as a production server has it: private, loopback and reserved addresses refused.
    // Its DATA_DIR too, for the same generated INTEGRATION_KEY: it reads the stored application password.
    strict = await buildTestApp({ INTEGRATION_ALLOW_PRIVATE: 'false', DATA_DIR: t.config.dataDir }, { database: t.database });
  });
  afterAll(() => strict?.close());
  const strictCall = (method: 'POST' | 'PATCH', url: string, payload?: object) =>
    strict.request({ method, url, headers: owner.headers, ...(payload ? { payload } : {}) });

  it('refuses a base_url on a private, loopback or reserved address, and stores nothing', async () => {
    const site = await createSite(t, owner, 'Internal');
    const before = await rowsOf(t, sql`select id from integration_integrations where account_id = ${owner.accountId}`);
    for (const [base_url, reason] of [
      [wp.baseUrl, /127\.0\.0\.1 is not a public address/],
      ['http://localhost:8088', /localhost is not a public address/],
      ['http://169.254.169.254/latest/meta-data', /169\.254\.169\.254 is not a public address/],
      ['http://[::1]:8088/', /::1 is not a public address/],
      ['http://10.0.0.7/', /10\.0\.0\.7 is not a public address/],
    ] as const) {
      const res = await strictCall('POST', `${PATH}/`, { site_id: site.id, platform: 'webhook', base_url });
      expect(res.statusCode, base_url).toBe(400);
      expect(res.json().errors.base_url?.[0], base_url).toMatch(reason);
    }
    const moved = await strictCall('PATCH', `${PATH}/${created.id}/`, { base_url: 'http://192.168.1.20/' });
    expect(moved.statusCode).toBe(400);
    expect(moved.json().errors.base_url?.[0]).toMatch(/INTEGRATION_ALLOW_PRIVATE/);
    expect(await rowsOf(t, sql`select id from integration_integrations where account_id = ${owner.accountId}`)).toEqual(before);
    expect((await call(owner, 'GET', `${PATH}/${created.id}/`)).json().data.base_url).toBe(wp.baseUrl);
  });

  it('refuses the connection itself to an address saved before (or that resolves elsewhere now)', async () => {
    const requestsBefore = wp.requests.length;
    const res = await strictCall('POST', `${PATH}/${created.id}/test_connection/`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({ ok: false, code: 'unreachable' });
    expect(res.json().data.message).toMatch(/The address 127\.0\.0\.1 is not a public one/);
    expect(wp.requests.length).toBe(requestsBefore);
    // Back to a working state for the tests after: the permissive server checks it again.
    expect((await call(owner, 'POST', `${PATH}/${created.id}/test_connection/`)).json().data.ok).toBe(true);
  });

  it('refuses a name that resolves to a private address when connecting, not only an IP literal', async () => {
    const refused = await publicFetch(false)(`http://localhost:${new URL(wp.baseUrl).port}/`).catch((error) => error);
    expect(refused).toBeInstanceOf(TypeError);
    expect(refused.cause).toBeInstanceOf(UnsafeAddressError);
    expect(refused.cause.address).toMatch(/^(127\.0\.0\.1|::1)$/);
    // Allowed, the same call reaches it.
    expect((await publicFetch(true)(`${wp.baseUrl}/`)).status).toBeLessThan(500);
  });
});

describe('integration/webhooks/<provider>/', () => {
  const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const deliver = (body: string, headers: Record<string, string>, query = '') =>
    t.request({
      method: 'POST',
      url: `/api/v1/integration/webhooks/wordpress/${query}`,
      headers: { 'content-type': 'application/json', ...headers },
      payload: body,
    });

  it('accepts a signed delivery once, answers every repeat the same, and a job records webhook.ingested', async () => {
    const body = JSON.stringify({ id: `evt-${Date.now()}`, type: 'post.updated', post: { id: 12 } });
    const headers = { 'x-integration-id': String(created.id), 'x-signature': sign(created.webhook_secret, body) };
    const first = await deliver(body, headers);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ success: true, data: { received: true }, request_id: expect.any(String) });
    const repeat = await deliver(body, headers);
    expect(repeat.statusCode).toBe(200);
    expect(repeat.json().data).toEqual({ received: true });
    const eventId = JSON.parse(body).id as string;
    const ingested = async () =>
      (
        (await call(owner, 'GET', '/api/v1/events/?type=webhook.ingested')).json().data.results as {
          payload: { event_id: string };
        }[]
      ).filter((e) => e.payload.event_id === eventId);
    const event = await found('the webhook event', async () => (await ingested())[0]);
    expect(event).toMatchObject({
      source_agent: 'webhook:wordpress',
      object_type: 'integration_webhook_event',
      payload: { provider: 'wordpress', integration_id: created.id, event_type: 'post.updated', data: JSON.parse(body) },
    });
    const stored = await rowsOf<{ deliveries: number; status: string }>(
      t,
      sql`select deliveries, status from integration_webhook_events where event_id = ${eventId}`,
    );
    expect(stored).toEqual([{ deliveries: 2, status: 'processed' }]);
    expect(await ingested()).toHaveLength(1);
  });

  it('takes the integration from ?integration= and the event id from X-Event-Id', async () => {
    const body = JSON.stringify({ note: 'no id in the body' });
    const res = await deliver(
      body,
      { 'x-signature': sign(created.webhook_secret, body), 'x-event-id': 'header-id-1' },
      `?integration=${created.id}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    const [row] = await rowsOf<{ event_id: string }>(
      t,
      sql`select event_id from integration_webhook_events where event_id = 'header-id-1'`,
    );
    expect(row?.event_id).toBe('header-id-1');
  });

  it('refuses a missing, malformed or wrong signature, an unnamed or unknown integration, and a body without an id', async () => {
    const body = JSON.stringify({ id: 'evt-refused' });
    const good = sign(created.webhook_secret, body);
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ 'x-integration-id': String(created.id) }, '', /X-Signature header is missing/],
      [{ 'x-integration-id': String(created.id), 'x-signature': 'md5=abc' }, '', /sha256=<64 hex digits>/],
      [{ 'x-integration-id': String(created.id), 'x-signature': sign('not the secret', body) }, '', /does not match/],
      [
        { 'x-integration-id': String(created.id), 'x-signature': good.replace(/.$/, (c) => (c === '0' ? '1' : '0')) },
        '',
        /does not match/,
      ],
      [{ 'x-signature': good }, '', /Name the integration/],
      [{ 'x-integration-id': 'abc', 'x-signature': good }, '', /must be an integration id/],
      [{ 'x-integration-id': '999999', 'x-signature': good }, '', /No webhook secret is configured/],
    ];
    for (const [headers, query, message] of cases) {
      const res = await deliver(body, headers, query);
      expect(res.statusCode, JSON.stringify(headers)).toBe(400);
      expect(res.json().code).toBe('validation_error');
      expect(res.body).toMatch(message);
    }
    const noId = JSON.stringify({ type: 'x' });
    const res = await deliver(noId, {
      'x-integration-id': String(created.id),
      'x-signature': sign(created.webhook_secret, noId),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.event_id).toBeDefined();
    const stored = await rowsOf(t, sql`select id from integration_webhook_events where event_id = 'evt-refused'`);
    expect(stored).toEqual([]);
  });

  it('refuses deliveries to an integration without a secret, and old signatures after rotate_secret', async () => {
    await t.database.db.execute(sql`update integration_integrations set webhook_secret = null where id = ${created.id}`);
    const body = JSON.stringify({ id: 'evt-no-secret' });
    const none = await deliver(body, {
      'x-integration-id': String(created.id),
      'x-signature': sign(created.webhook_secret, body),
    });
    expect(none.statusCode).toBe(400);
    expect(none.json().error).toBe('No webhook secret is configured for this integration, so its deliveries cannot be verified.');

    const rotated = await call(owner, 'POST', `${PATH}/${created.id}/rotate_secret/`);
    expect(rotated.statusCode, rotated.body).toBe(200);
    const secret = rotated.json().data.webhook_secret as string;
    expect(secret).not.toBe(created.webhook_secret);
    expect(rotated.json().data.has_webhook_secret).toBe(true);
    const old = await deliver(body, {
      'x-integration-id': String(created.id),
      'x-signature': sign(created.webhook_secret, body),
    });
    expect(old.statusCode).toBe(400);
    const fresh = await deliver(body, { 'x-integration-id': String(created.id), 'x-signature': sign(secret, body) });
    expect(fresh.statusCode).toBe(200);
    created = { ...created, webhook_secret: secret };
    const detail = await call(owner, 'GET', `${PATH}/${created.id}/`);
    expect(detail.body).not.toContain(secret);
  });
});

describe('events', () => {
  it('records created, updated, secret_rotated and deleted, without secrets', async () => {
    const res = await call(owner, 'GET', `/api/v1/events/?object_type=integration&object_id=${created.id}`);
    const types = res.json().data.results.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(['integration.created', 'integration.updated', 'integration.secret_rotated']));
    expect(res.body).not.toContain('whsec_');
    expect(res.body).not.toContain(APP_PASSWORD);
  });
});
