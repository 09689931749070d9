import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { type FakeWordPress, startFakeWordPress } from '../../../test/fake-wordpress.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { wordpressPeer } from '../../../test/wordpress-peer.js';

/**
 * `test_connection/`: against the real WordPress (a good and a wrong application password), and against a
 * small server for what it cannot show: a host stripping the Authorization header, a WordPress that names a
 * wrong password, a user without the capabilities publishing needs, no application passwords offered, and a
 * webhook destination receiving a signed ping.
 */

const peer = await wordpressPeer('integration.connection');
const PATH = '/api/v1/integration/integrations';
const PASSWORD = 'wxyz wxyz wxyz wxyz wxyz wxyz';

let t: TestApp;
let owner: SignedUp;
let fake: FakeWordPress;

/** A new account per connection: each check gets its own site (plans cap an account's sites). */
async function connect(baseUrl: string, credentials: { username: string; password: string } | null, platform = 'wordpress') {
  owner = await signUp(t);
  const site = await createSite(t, owner);
  const res = await t.request({
    method: 'POST',
    url: `${PATH}/`,
    headers: owner.headers,
    payload: {
      site_id: site.id,
      platform,
      base_url: baseUrl,
      ...(credentials ? { username: credentials.username, credentials: credentials.password } : {}),
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data as { id: number; webhook_secret: string };
}

async function check(id: number) {
  const res = await t.request({ method: 'POST', url: `${PATH}/${id}/test_connection/`, headers: owner.headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data;
}

beforeAll(async () => {
  t = await buildTestApp();
  fake = await startFakeWordPress({ username: 'editor', password: PASSWORD });
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

describe.skipIf(!peer)('against the WordPress peer', () => {
  const { baseUrl, restUrl, username, applicationPassword } = peer ?? {
    baseUrl: '',
    restUrl: '',
    username: '',
    applicationPassword: '',
  };

  it('connects with the application password: version, REST root, capabilities, status active', async () => {
    const { id } = await connect(baseUrl, { username, password: applicationPassword });
    const result = await check(id);
    expect(result).toMatchObject({
      ok: true,
      code: null,
      rest_root: restUrl,
      wordpress_version: expect.stringMatching(/^\d+\.\d+/),
      authentication_methods: ['application-passwords'],
      user: { id: expect.any(Number), username, roles: ['administrator'] },
      missing_capabilities: [],
      credentials_seen: true,
    });
    expect(result.required_capabilities).toEqual(expect.arrayContaining(['publish_posts', 'upload_files', 'manage_categories']));
    expect(result.integration).toMatchObject({ status: 'active', last_error: null, last_checked_at: expect.any(String) });
    expect(result.integration.details).toMatchObject({ wordpress_version: result.wordpress_version, missing_capabilities: [] });
    const events = await t.request({
      method: 'GET',
      url: `/api/v1/events/?type=integration.tested&object_id=${id}`,
      headers: owner.headers,
    });
    expect(events.json().data.results[0].payload).toMatchObject({ ok: true, code: null });
  });

  it('reports a wrong application password as authentication_failed, not as a working site', async () => {
    const { id } = await connect(baseUrl, { username, password: 'abcd efgh ijkl mnop qrst uvwx' });
    const result = await check(id);
    expect(result).toMatchObject({ ok: false, code: 'authentication_failed', credentials_seen: false, user: null });
    expect(result.integration.status).toBe('error');
    expect(result.integration.last_error).toBe(result.message);
    expect(result.message).toMatch(/application password is wrong/);
    expect(result.message).not.toContain('abcd');
  });
});

describe('what the peer cannot show', () => {
  it('a right password on a header-stripping host is named, with the HTTP_AUTHORIZATION fix', async () => {
    fake.options = { ...fake.options, auth: 'strip_header' };
    const { id } = await connect(fake.baseUrl, { username: 'editor', password: PASSWORD });
    const result = await check(id);
    expect(result).toMatchObject({
      ok: false,
      code: 'authentication_failed',
      credentials_seen: false,
      authentication_methods: ['application-passwords'],
    });
    expect(result.integration.last_error).toMatch(/Authorization header does not reach WordPress/);
    expect(result.integration.last_error).toMatch(/HTTP_AUTHORIZATION/);
    expect(result.integration.last_error).toMatch(/\.htaccess/);
    // Once the host passes the header, the same integration works.
    fake.options = { ...fake.options, auth: 'anonymous_when_wrong' };
    const fixed = await check(id);
    expect(fixed).toMatchObject({ ok: true, code: null, wordpress_version: '6.4.3', user: { id: 7, username: 'editor' } });
    expect(fixed.integration).toMatchObject({ status: 'active', last_error: null });
  });

  it('a password WordPress refuses by name is a refusal, without the header advice', async () => {
    fake.options = { ...fake.options, auth: 'refuse_when_wrong' };
    const { id } = await connect(fake.baseUrl, { username: 'editor', password: 'not the password at all' });
    const result = await check(id);
    expect(result).toMatchObject({ ok: false, code: 'authentication_failed', credentials_seen: true });
    expect(result.message).toMatch(/^WordPress refused the application password of "editor" \(incorrect_password/);
    expect(result.message).not.toMatch(/HTTP_AUTHORIZATION/);
    fake.options = { ...fake.options, auth: 'anonymous_when_wrong' };
  });

  it('names the capabilities publishing needs that the user lacks', async () => {
    fake.options = { ...fake.options, capabilities: { edit_posts: true, upload_files: true } };
    const { id } = await connect(fake.baseUrl, { username: 'editor', password: PASSWORD });
    const result = await check(id);
    expect(result).toMatchObject({
      ok: false,
      code: 'missing_capabilities',
      missing_capabilities: [
        'publish_posts',
        'edit_published_posts',
        'delete_posts',
        'delete_published_posts',
        'manage_categories',
      ],
    });
    expect(result.integration.status).toBe('error');
    fake.options = { ...fake.options, capabilities: undefined };
  });

  it('says when the site offers no application passwords, and when none is stored', async () => {
    fake.options = { ...fake.options, applicationPasswords: false };
    const { id } = await connect(fake.baseUrl, { username: 'editor', password: 'wrong' });
    expect(await check(id)).toMatchObject({ ok: false, code: 'application_passwords_unavailable', authentication_methods: [] });
    fake.options = { ...fake.options, applicationPasswords: true };
    const bare = await connect(fake.baseUrl, null);
    expect(await check(bare.id)).toMatchObject({ ok: false, code: 'no_credentials', rest_root: `${fake.baseUrl}/wp-json/` });
  });

  it('a site that went away is unreachable', async () => {
    const gone = await startFakeWordPress();
    const { id } = await connect(gone.baseUrl, null);
    await gone.close();
    const result = await check(id);
    expect(result).toMatchObject({ ok: false, code: 'unreachable' });
    expect(result.integration.status).toBe('error');
  });

  it('a webhook destination gets a ping signed with the webhook secret', async () => {
    const received: { signature: string | undefined; body: string }[] = [];
    let status = 204;
    const server: Server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        received.push({ signature: request.headers['x-signature'] as string | undefined, body });
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
      const { id, webhook_secret } = await connect(url, null, 'webhook');
      expect(await check(id)).toMatchObject({ ok: true, code: null, message: 'The endpoint answered 204 to a ping.' });
      const { createHmac } = await import('node:crypto');
      const [ping] = received;
      expect(JSON.parse(ping?.body ?? '{}')).toMatchObject({ type: 'ping' });
      expect(ping?.signature).toBe(
        `sha256=${createHmac('sha256', webhook_secret)
          .update(ping?.body ?? '')
          .digest('hex')}`,
      );
      status = 500;
      expect(await check(id)).toMatchObject({ ok: false, code: 'http_error', integration: { status: 'error' } });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
