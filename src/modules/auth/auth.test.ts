import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { addMember, createApiKey, createSector, createSite, PASSWORD, signUp, uniqueEmail } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { expectSecured } from '../../../test/security.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  t.request({ method: 'POST', url, payload: payload as object, headers });
const get = (url: string, headers: Record<string, string> = {}) => t.request({ method: 'GET', url, headers });

describe('register', () => {
  it('creates the account on the free plan, its owner and a session', async () => {
    const email = uniqueEmail();
    const res = await post('/api/v1/auth/register/', { email, password: PASSWORD, account_name: 'Trail Co', firstName: 'Ada' });
    expect(res.statusCode, res.body).toBe(201);
    const data = res.json().data;
    expect(data.user).toMatchObject({ email, first_name: 'Ada', is_staff: false });
    expect(data.user.password_hash).toBeUndefined();
    expect(data.account).toMatchObject({ name: 'Trail Co', slug: 'trail-co', status: 'active', owner_id: data.user.id });
    expect(data.access.split('.')).toHaveLength(3);
    expect(new Date(data.access_expires_at).getTime()).toBeGreaterThan(Date.now());
    const me = await get('/api/v1/auth/me/', { authorization: `Bearer ${data.access}` });
    expect(me.json().data).toMatchObject({ role: 'owner', site_ids: null, accounts: [{ id: data.account.id, role: 'owner' }] });
  });

  it('answers field errors for bad input, all at once, and creates nothing', async () => {
    const res = await post('/api/v1/auth/register/', { email: 'not-an-email', password: 'short', account_name: 'x'.repeat(201) });
    expect(res.statusCode).toBe(400);
    const { errors, code } = res.json();
    expect(code).toBe('validation_error');
    expect(Object.keys(errors)).toEqual(expect.arrayContaining(['email', 'password', 'account_name']));

    const missing = await post('/api/v1/auth/register/', {});
    expect(Object.keys(missing.json().errors)).toEqual(expect.arrayContaining(['email', 'password', 'account_name']));

    const common = await post('/api/v1/auth/register/', { email: uniqueEmail(), password: 'password123', account_name: 'A' });
    expect(common.statusCode).toBe(400);
    expect(common.json().errors.password[0]).toMatch(/too common/);
  });

  it('refuses a duplicate email, whatever its case, without a second account', async () => {
    const owner = await signUp(t);
    const res = await post('/api/v1/auth/register/', {
      email: owner.email.toUpperCase(),
      password: PASSWORD,
      account_name: 'Again',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.email).toBeDefined();
    const me = await get('/api/v1/auth/me/', owner.headers);
    expect(me.json().data.accounts).toHaveLength(1);
  });
});

describe('login, refresh, logout', () => {
  it('answers an unknown email and a wrong password the same way', async () => {
    const owner = await signUp(t);
    const wrong = await post('/api/v1/auth/login/', { email: owner.email, password: 'wrong password here' });
    const unknown = await post('/api/v1/auth/login/', { email: uniqueEmail('nobody'), password: 'wrong password here' });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    const strip = (body: { request_id?: string }) => ({ ...body, request_id: undefined });
    expect(strip(wrong.json())).toEqual(strip(unknown.json()));
  });

  it('sets the session cookie when asked, and the cookie signs requests in', async () => {
    const owner = await signUp(t);
    const res = await post('/api/v1/auth/login/', { email: owner.email, password: PASSWORD, session: true });
    expect(res.statusCode).toBe(200);
    const cookie = res.cookies.find((c) => c.name === 'sessionid');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    const me = await t.request({ method: 'GET', url: '/api/v1/auth/me/', cookies: { sessionid: cookie?.value as string } });
    expect(me.statusCode).toBe(200);
    expect(me.json().data.user.email).toBe(owner.email);
  });

  it('rotates refresh tokens, and a reused one kills the whole family', async () => {
    const owner = await signUp(t);
    const first = await post('/api/v1/auth/refresh/', { refresh: owner.refresh });
    expect(first.statusCode, first.body).toBe(200);
    const next = first.json().data;
    expect(next.refresh).not.toBe(owner.refresh);

    const reused = await post('/api/v1/auth/refresh/', { refresh: owner.refresh });
    expect(reused.statusCode).toBe(401);
    // The family is dead: the newest refresh token and every access token of the session stop working.
    expect((await post('/api/v1/auth/refresh/', { refresh: next.refresh })).statusCode).toBe(401);
    expect((await get('/api/v1/auth/me/', { authorization: `Bearer ${next.access}` })).statusCode).toBe(401);
    expect((await get('/api/v1/auth/me/', owner.headers)).statusCode).toBe(401);
  });

  it('logout makes the old access token fail at once', async () => {
    const owner = await signUp(t);
    expect((await get('/api/v1/auth/me/', owner.headers)).statusCode).toBe(200);
    const out = await post('/api/v1/auth/logout/', {}, owner.headers);
    expect(out.statusCode, out.body).toBe(200);
    const after = await get('/api/v1/auth/me/', owner.headers);
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('authentication_failed');
    expect((await post('/api/v1/auth/refresh/', { refresh: owner.refresh })).statusCode).toBe(401);
  });

  it('logout needs no body when signed in with a session, and unknown parameters are refused', async () => {
    const owner = await signUp(t);
    expect((await get('/api/v1/auth/me/?verbose=1', owner.headers)).statusCode).toBe(400);
    const out = await t.request({ method: 'POST', url: '/api/v1/auth/logout/', headers: owner.headers });
    expect(out.statusCode, out.body).toBe(200);
    expect((await get('/api/v1/auth/me/', owner.headers)).statusCode).toBe(401);
  });

  it('logout with only the refresh token ends that session', async () => {
    const owner = await signUp(t);
    expect((await post('/api/v1/auth/logout/', { refresh: owner.refresh })).statusCode).toBe(200);
    expect((await get('/api/v1/auth/me/', owner.headers)).statusCode).toBe(401);
  });

  it('lists and revokes sessions', async () => {
    const owner = await signUp(t);
    const second = (await post('/api/v1/auth/login/', { email: owner.email, password: PASSWORD })).json().data;
    const list = await get('/api/v1/auth/sessions/', owner.headers);
    expect(list.json().data.results).toHaveLength(2);
    const other = list.json().data.results.find((s: { current: boolean }) => !s.current);
    const revoked = await t.request({ method: 'DELETE', url: `/api/v1/auth/sessions/${other.id}/`, headers: owner.headers });
    expect(revoked.statusCode).toBe(204);
    expect((await get('/api/v1/auth/me/', { authorization: `Bearer ${second.access}` })).statusCode).toBe(401);
    expect((await get('/api/v1/auth/me/', owner.headers)).statusCode).toBe(200);
  });
});

describe('access token lifetime', () => {
  it('answers 401 token_expired once the token has expired', async () => {
    const short = await buildTestApp({ ACCESS_TOKEN_TTL_SECONDS: '1' }, { database: t.database });
    try {
      // The clock stands still from the token's issue to its first use (on a busy machine a second can pass
      // between them), then moves past its lifetime instead of the test waiting for it (only Date is faked:
      // timers, the database and the queue run as they do).
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
      const owner = await signUp(short);
      expect((await short.request({ method: 'GET', url: '/api/v1/auth/me/', headers: owner.headers })).statusCode).toBe(200);
      vi.setSystemTime(Date.now() + 2100);
      const res = await short.request({ method: 'GET', url: '/api/v1/auth/me/', headers: owner.headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('token_expired');
    } finally {
      vi.useRealTimers();
      await short.close();
    }
  });
});

describe('passwords', () => {
  it('changes the password and signs out the other sessions', async () => {
    const owner = await signUp(t);
    const other = (await post('/api/v1/auth/login/', { email: owner.email, password: PASSWORD })).json().data;
    const wrong = await post(
      '/api/v1/auth/change-password/',
      { old_password: 'nope nope nope', new_password: 'a brand new passphrase' },
      owner.headers,
    );
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors.old_password).toBeDefined();
    const ok = await post(
      '/api/v1/auth/change-password/',
      { oldPassword: PASSWORD, newPassword: 'a brand new passphrase' },
      owner.headers,
    );
    expect(ok.statusCode, ok.body).toBe(200);
    expect((await get('/api/v1/auth/me/', owner.headers)).statusCode).toBe(200);
    expect((await get('/api/v1/auth/me/', { authorization: `Bearer ${other.access}` })).statusCode).toBe(401);
    expect((await post('/api/v1/auth/login/', { email: owner.email, password: 'a brand new passphrase' })).statusCode).toBe(200);
  });

  it('resets a password with the mailed one-time token; staff read the outbox', async () => {
    const owner = await signUp(t);
    const unknown = await post('/api/v1/auth/password-reset/', { email: uniqueEmail('nobody') });
    const known = await post('/api/v1/auth/password-reset/', { email: owner.email });
    expect(unknown.statusCode).toBe(200);
    expect(known.statusCode).toBe(200);
    expect(unknown.json().data).toEqual(known.json().data);

    const staffEmail = uniqueEmail('staff');
    await t.app.services.auth.createSuperuser({ email: staffEmail, password: PASSWORD });
    const staff = (await post('/api/v1/auth/login/', { email: staffEmail, password: PASSWORD })).json().data;
    expect(staff.account).toBeNull();
    const staffHeaders = { authorization: `Bearer ${staff.access}` };
    expect((await get('/api/v1/admin/outbox/', owner.headers)).statusCode).toBe(403);
    const outbox = await get(`/api/v1/admin/outbox/?to=${encodeURIComponent(owner.email)}`, staffHeaders);
    expect(outbox.statusCode, outbox.body).toBe(200);
    const mail = outbox.json().data.results[0];
    const token = /"token": "([^"]+)"/.exec(mail.text)?.[1] as string;
    expect(token).toBeTruthy();

    const reset = await post('/api/v1/auth/password-reset/confirm/', { token, new_password: 'reset to something new' });
    expect(reset.statusCode, reset.body).toBe(200);
    const again = await post('/api/v1/auth/password-reset/confirm/', { token, new_password: 'and once more please' });
    expect(again.statusCode).toBe(400);
    expect((await get('/api/v1/auth/me/', owner.headers)).statusCode).toBe(401);
    expect((await post('/api/v1/auth/login/', { email: owner.email, password: 'reset to something new' })).statusCode).toBe(200);
    // Staff never act through tenant routes without an account.
    expect((await get('/api/v1/auth/sites/', staffHeaders)).statusCode).toBe(403);
  });
});

describe('password reset tokens', () => {
  /** Asks for a reset and reads the token from the newest mail to the user (staff read the outbox). */
  async function mailedToken(email: string, staffHeaders: Record<string, string>): Promise<string> {
    expect((await post('/api/v1/auth/password-reset/', { email })).statusCode).toBe(200);
    const outbox = await get(`/api/v1/admin/outbox/?to=${encodeURIComponent(email)}`, staffHeaders);
    expect(outbox.statusCode, outbox.body).toBe(200);
    const [newest] = outbox.json().data.results as { text: string }[];
    return /"token": "([^"]+)"/.exec(newest?.text ?? '')?.[1] as string;
  }

  it('keeps only the newest token alive: using one, issuing a newer one or changing the password retires the rest', async () => {
    const staffEmail = uniqueEmail('staff');
    await t.app.services.auth.createSuperuser({ email: staffEmail, password: PASSWORD });
    const staff = (await post('/api/v1/auth/login/', { email: staffEmail, password: PASSWORD })).json().data;
    const staffHeaders = { authorization: `Bearer ${staff.access}` };
    const owner = await signUp(t);
    const confirm = (token: string, new_password: string) =>
      post('/api/v1/auth/password-reset/confirm/', { token, new_password });

    const older = await mailedToken(owner.email, staffHeaders);
    const newer = await mailedToken(owner.email, staffHeaders);
    expect(older).not.toBe(newer);
    expect((await confirm(newer, 'the newer token was used')).statusCode).toBe(200);
    // The older token was outstanding when the newer one was issued and used: it no longer resets anything.
    const stale = await confirm(older, 'an older token wins back');
    expect(stale.statusCode).toBe(400);
    expect(stale.json().errors.token).toBeDefined();
    expect((await post('/api/v1/auth/login/', { email: owner.email, password: 'the newer token was used' })).statusCode).toBe(
      200,
    );

    // A password change retires a token mailed before it.
    const before = await mailedToken(owner.email, staffHeaders);
    const login = (await post('/api/v1/auth/login/', { email: owner.email, password: 'the newer token was used' })).json().data;
    const changed = await post(
      '/api/v1/auth/change-password/',
      { old_password: 'the newer token was used', new_password: 'changed by the owner' },
      { authorization: `Bearer ${login.access}` },
    );
    expect(changed.statusCode, changed.body).toBe(200);
    expect((await confirm(before, 'reset after the change')).statusCode).toBe(400);
    expect((await post('/api/v1/auth/login/', { email: owner.email, password: 'changed by the owner' })).statusCode).toBe(200);
  });
});

describe('tenancy', () => {
  it('keeps two accounts apart under every scheme', async () => {
    const a = await signUp(t, { account_name: 'Alpha' });
    const b = await signUp(t, { account_name: 'Beta' });
    const siteA = await createSite(t, a, 'Alpha site');
    const sectorA = await createSector(t, a, siteA.id);
    const keyA = await createApiKey(t, a);
    const memberA = await addMember(t, a, 'editor');
    await createSite(t, b, 'Beta site');
    const keyB = await createApiKey(t, b, { scopes: ['read', 'write', 'admin'] });
    const cookieB = (await post('/api/v1/auth/login/', { email: b.email, password: PASSWORD, session: true })).cookies.find(
      (c) => c.name === 'sessionid',
    )?.value as string;
    const basicB = `Basic ${Buffer.from(`${b.email}:${PASSWORD}`).toString('base64')}`;

    const asB: Array<{ name: string; headers: Record<string, string>; cookies: Record<string, string> }> = [
      { name: 'jwt', headers: b.headers, cookies: {} },
      { name: 'api key', headers: keyB.headers, cookies: {} },
      { name: 'x-api-key', headers: { 'x-api-key': keyB.key }, cookies: {} },
      { name: 'cookie', headers: {}, cookies: { sessionid: cookieB } },
      { name: 'basic', headers: { authorization: basicB }, cookies: {} },
    ];
    const urlsOfA: Array<[string, Array<'GET' | 'PATCH' | 'DELETE' | 'POST'>]> = [
      [`/api/v1/auth/sites/${siteA.id}/`, ['GET', 'PATCH', 'DELETE']],
      [`/api/v1/auth/sectors/${sectorA.id}/`, ['GET', 'PATCH', 'DELETE']],
      [`/api/v1/account/api-keys/${keyA.id}/`, ['GET', 'DELETE']],
      [`/api/v1/account/api-keys/${keyA.id}/rotate/`, ['POST']],
      [`/api/v1/auth/users/${memberA.userId}/`, ['GET', 'PATCH', 'DELETE']],
      [`/api/v1/account/team/${memberA.userId}/`, ['PATCH', 'DELETE']],
    ];
    for (const scheme of asB) {
      const me = await t.request({ method: 'GET', url: '/api/v1/auth/me/', headers: scheme.headers, cookies: scheme.cookies });
      expect(me.statusCode, scheme.name).toBe(200);
      expect(me.json().data.account.id, scheme.name).toBe(b.accountId);
      for (const [url, methods] of urlsOfA) {
        for (const method of methods) {
          const res = await t.request({
            method,
            url,
            headers: scheme.headers,
            cookies: scheme.cookies,
            ...(method === 'PATCH' ? { payload: {} } : {}),
          });
          expect(res.statusCode, `${scheme.name} ${method} ${url}`).toBe(404);
        }
      }
      for (const list of ['/api/v1/auth/sites/', '/api/v1/auth/sectors/', '/api/v1/account/api-keys/', '/api/v1/auth/users/']) {
        const res = await t.request({ method: 'GET', url: list, headers: scheme.headers, cookies: scheme.cookies });
        expect(res.statusCode, `${scheme.name} ${list}`).toBe(200);
        const results = res.json().data.results as Array<{ id: number; account_id?: number }>;
        if (list.includes('users'))
          expect(
            results.map((r) => r.id),
            `${scheme.name} ${list}`,
          ).not.toContain(memberA.userId);
        else
          expect(
            results.every((r) => r.account_id === b.accountId),
            `${scheme.name} ${list}`,
          ).toBe(true);
      }
      // Another account's site in a body is a field error, not a way in.
      const sector = await t.request({
        method: 'POST',
        url: '/api/v1/auth/sectors/',
        headers: scheme.headers,
        cookies: scheme.cookies,
        payload: { site_id: siteA.id, name: 'Sneaky' },
      });
      expect(sector.statusCode, scheme.name).toBe(400);
      expect(sector.json().errors.site_id).toBeDefined();
    }
  });

  it('limits a site-bound key and a site-limited member to their sites', async () => {
    const owner = await signUp(t);
    const one = await createSite(t, owner, 'One');
    const two = await createSite(t, owner, 'Two');
    const bound = await createApiKey(t, owner, { site_id: one.id });
    const list = (await get('/api/v1/auth/sites/', bound.headers)).json().data.results.map((s: { id: number }) => s.id);
    expect(list).toEqual([one.id]);
    expect((await get(`/api/v1/auth/sites/${two.id}/`, bound.headers)).statusCode).toBe(404);
    await createSector(t, owner, two.id, 'Hidden');
    const sectors = (await get('/api/v1/auth/sectors/', bound.headers)).json().data.results;
    expect(sectors.every((s: { site_id: number }) => s.site_id === one.id)).toBe(true);

    const limited = await addMember(t, owner, 'viewer', [two.id]);
    const seen = (await get('/api/v1/auth/sites/', limited.headers)).json().data.results.map((s: { id: number }) => s.id);
    expect(seen).toEqual([two.id]);
    expect((await get('/api/v1/auth/me/', limited.headers)).json().data.site_ids).toEqual([two.id]);
  });

  it('gives member and settings details an ETag that If-None-Match turns into 304', async () => {
    const owner = await signUp(t);
    for (const url of [`/api/v1/auth/users/${owner.userId}/`, '/api/v1/account/settings/']) {
      const first = await get(url, owner.headers);
      expect(first.headers.etag, url).toBeDefined();
      const again = await get(url, { ...owner.headers, 'if-none-match': String(first.headers.etag) });
      expect(again.statusCode, url).toBe(304);
    }
  });

  it('lets a viewer read but not write', async () => {
    const owner = await signUp(t);
    const viewer = await addMember(t, owner, 'viewer');
    expect((await get('/api/v1/auth/sites/', viewer.headers)).statusCode).toBe(200);
    const res = await post('/api/v1/auth/sites/', { name: 'No' }, viewer.headers);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('permission_denied');
  });
});

describe('sites and sectors', () => {
  it("caps sites at the plan's limit", async () => {
    const owner = await signUp(t);
    for (let i = 0; i < 5; i++) await createSite(t, owner, `S${i}`);
    const res = await post('/api/v1/auth/sites/', { name: 'Sixth' }, owner.headers);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'plan_limit_reached', details: { limit: 5, current: 5 } });
  });

  it('makes slugs from names, refuses duplicates as field errors, checks industries', async () => {
    const owner = await signUp(t);
    const first = await post(
      '/api/v1/auth/sites/',
      { name: 'Trail Shoes', industry: 'apparel-footwear', url: 'https://shoes.example' },
      owner.headers,
    );
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json().data.slug).toBe('trail-shoes');
    const second = await post('/api/v1/auth/sites/', { name: 'Trail Shoes' }, owner.headers);
    expect(second.json().data.slug).toBe('trail-shoes-2');
    const duplicate = await post('/api/v1/auth/sites/', { name: 'X', slug: 'trail-shoes' }, owner.headers);
    expect(duplicate.statusCode).toBe(400);
    expect(duplicate.json().errors.slug).toBeDefined();
    const badIndustry = await post('/api/v1/auth/sites/', { name: 'Y', industry: 'no-such-thing' }, owner.headers);
    expect(badIndustry.statusCode).toBe(400);
    expect(badIndustry.json().errors.industry).toBeDefined();
    const badUrl = await post('/api/v1/auth/sites/', { name: 'Z', url: 'javascript:alert(1)' }, owner.headers);
    expect(badUrl.statusCode).toBe(400);
    const tooLong = await post('/api/v1/auth/sites/', { name: 'n'.repeat(201) }, owner.headers);
    expect(tooLong.json().errors.name).toBeDefined();

    const siteId = first.json().data.id;
    await createSector(t, owner, siteId, 'Road Running');
    const dupSector = await post(
      '/api/v1/auth/sectors/',
      { site_id: siteId, name: 'Other', slug: 'road-running' },
      owner.headers,
    );
    expect(dupSector.statusCode).toBe(400);
    expect(dupSector.json().errors.slug).toBeDefined();
    // The same slug on another site is fine: sector slugs are unique per site.
    const otherSite = second.json().data.id;
    expect((await post('/api/v1/auth/sectors/', { site_id: otherSite, name: 'Road Running' }, owner.headers)).statusCode).toBe(
      201,
    );
  });

  it('deleting a site removes its sectors', async () => {
    const owner = await signUp(t);
    const site = await createSite(t, owner);
    const sector = await createSector(t, owner, site.id);
    expect(
      (await t.request({ method: 'DELETE', url: `/api/v1/auth/sites/${site.id}/`, headers: owner.headers })).statusCode,
    ).toBe(204);
    expect((await get(`/api/v1/auth/sectors/${sector.id}/`, owner.headers)).statusCode).toBe(404);
  });
});

describe('team', () => {
  it('keeps the last owner, and only owners touch owners', async () => {
    const owner = await signUp(t);
    const admin = await addMember(t, owner, 'admin');
    const demote = await t.request({
      method: 'PATCH',
      url: `/api/v1/account/team/${owner.userId}/`,
      headers: owner.headers,
      payload: { role: 'admin' },
    });
    expect(demote.statusCode).toBe(409);
    const remove = await t.request({ method: 'DELETE', url: `/api/v1/account/team/${owner.userId}/`, headers: owner.headers });
    expect(remove.statusCode).toBe(409);
    const byAdmin = await t.request({
      method: 'PATCH',
      url: `/api/v1/account/team/${owner.userId}/`,
      headers: admin.headers,
      payload: { role: 'viewer' },
    });
    expect(byAdmin.statusCode).toBe(403);
    const promote = await t.request({
      method: 'PATCH',
      url: `/api/v1/account/team/${admin.userId}/`,
      headers: admin.headers,
      payload: { role: 'owner' },
    });
    expect(promote.statusCode).toBe(403);
    // With a second owner, the first may step down.
    expect(
      (
        await t.request({
          method: 'PATCH',
          url: `/api/v1/account/team/${admin.userId}/`,
          headers: owner.headers,
          payload: { role: 'owner' },
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await t.request({
          method: 'PATCH',
          url: `/api/v1/account/team/${owner.userId}/`,
          headers: owner.headers,
          payload: { role: 'editor' },
        })
      ).statusCode,
    ).toBe(200);
    // The role change applies to the next request of the demoted user at once.
    expect((await post('/api/v1/auth/sites/', { name: 'No longer' }, owner.headers)).statusCode).toBe(403);
  });

  it('invites a new person, who accepts with a password', async () => {
    const owner = await signUp(t);
    const email = uniqueEmail('invitee');
    const invite = await post('/api/v1/account/team/invite/', { email, role: 'editor' }, owner.headers);
    expect(invite.statusCode, invite.body).toBe(201);
    const acceptUrl = new URL(invite.json().data.accept_url);
    const token = acceptUrl.searchParams.get('token') as string;
    const noPassword = await post('/api/v1/account/team/accept/', { token });
    expect(noPassword.statusCode).toBe(400);
    // The failed attempt did not spend the invitation.
    const accepted = await post('/api/v1/account/team/accept/', { token, password: 'welcome aboard friend', first_name: 'New' });
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json().data.account.id).toBe(owner.accountId);
    const team = (await get('/api/v1/account/team/', owner.headers)).json().data.results;
    expect(team.find((m: { email: string }) => m.email === email)).toMatchObject({ role: 'editor', first_name: 'New' });
    expect((await post('/api/v1/account/team/accept/', { token, password: 'welcome aboard friend' })).statusCode).toBe(400);
  });

  it('lets an existing user join another account, signed in, and pick it at login', async () => {
    const agency = await signUp(t, { account_name: 'Agency' });
    const client = await signUp(t, { account_name: 'Client' });
    const invite = await post('/api/v1/account/team/invite/', { email: agency.email, role: 'admin' }, client.headers);
    const token = new URL(invite.json().data.accept_url).searchParams.get('token') as string;
    expect((await post('/api/v1/account/team/accept/', { token })).statusCode).toBe(401);
    const joined = await post('/api/v1/account/team/accept/', { token }, agency.headers);
    expect(joined.statusCode, joined.body).toBe(200);
    const login = await post('/api/v1/auth/login/', { email: agency.email, password: PASSWORD, account_id: client.accountId });
    expect(login.json().data.account.id).toBe(client.accountId);
    const me = (await get('/api/v1/auth/me/', { authorization: `Bearer ${login.json().data.access}` })).json().data;
    expect(me.accounts.map((a: { id: number }) => a.id).sort()).toEqual([agency.accountId, client.accountId].sort());
    const notMine = await post('/api/v1/auth/login/', { email: agency.email, password: PASSWORD, account_id: 999999 });
    expect(notMine.statusCode).toBe(400);
  });
});

describe('API keys', () => {
  it('shows the key once, authenticates, rotates and revokes at once', async () => {
    const owner = await signUp(t);
    const created = await post('/api/v1/account/api-keys/', { name: 'Bridge', scopes: ['read'] }, owner.headers);
    expect(created.statusCode, created.body).toBe(201);
    const { key, id, prefix } = created.json().data;
    expect(key).toMatch(/^ik_live_[0-9A-Za-z]{38}$/);
    expect(key.startsWith(prefix)).toBe(true);
    const listed = (await get(`/api/v1/account/api-keys/${id}/`, owner.headers)).json().data;
    expect(listed.key).toBeUndefined();
    expect(listed.key_hash).toBeUndefined();

    const me = (await get('/api/v1/auth/me/', { authorization: `Bearer ${key}` })).json().data;
    expect(me).toMatchObject({ user: null, role: 'viewer', api_key: { id, scopes: ['read'] } });
    // A typo fails the checksum and never reaches the database.
    const typo = `${key.slice(0, -1)}${key.endsWith('a') ? 'b' : 'a'}`;
    expect((await get('/api/v1/auth/me/', { authorization: `Bearer ${typo}` })).statusCode).toBe(401);

    const rotated = await post(`/api/v1/account/api-keys/${id}/rotate/`, {}, owner.headers);
    expect(rotated.statusCode, rotated.body).toBe(201);
    expect((await get('/api/v1/auth/me/', { authorization: `Bearer ${key}` })).statusCode).toBe(401);
    const fresh = rotated.json().data.key;
    expect((await get('/api/v1/auth/me/', { 'x-api-key': fresh })).statusCode).toBe(200);
    await t.request({ method: 'DELETE', url: `/api/v1/account/api-keys/${rotated.json().data.id}/`, headers: owner.headers });
    expect((await get('/api/v1/auth/me/', { 'x-api-key': fresh })).statusCode).toBe(401);
  });

  it('refuses a site of another account and a past expiry', async () => {
    const owner = await signUp(t);
    const other = await signUp(t);
    const site = await createSite(t, other);
    const res = await post('/api/v1/account/api-keys/', { name: 'x', site_id: site.id }, owner.headers);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.site_id).toBeDefined();
    const past = await post('/api/v1/account/api-keys/', { name: 'x', expires_at: '2020-01-01T00:00:00.000Z' }, owner.headers);
    expect(past.json().errors.expires_at).toBeDefined();
  });
});

describe('Basic auth and sign-in throttling', () => {
  it('limits sign-in attempts per IP before hashing', async () => {
    const limited = await buildTestApp({ THROTTLE_DISABLED: 'false', THROTTLE_RATES: 'auth=3/min' }, { database: t.database });
    try {
      const owner = await signUp(limited);
      const basic = { authorization: `Basic ${Buffer.from(`${owner.email}:${PASSWORD}`).toString('base64')}` };
      expect((await limited.request({ method: 'GET', url: '/api/v1/auth/me/', headers: basic })).statusCode).toBe(200);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push(
          (
            await limited.request({
              method: 'POST',
              url: '/api/v1/auth/login/',
              payload: { email: owner.email, password: 'wrong guess here' },
            })
          ).statusCode,
        );
      }
      expect(statuses).toContain(429);
      const throttled = await limited.request({ method: 'GET', url: '/api/v1/auth/me/', headers: basic });
      expect(throttled.statusCode).toBe(429);
      expect(throttled.headers['retry-after']).toBeDefined();
    } finally {
      await limited.close();
    }
  });
});

describe('security checks for every route', () => {
  it('holds on the auth and account routes', async () => {
    const owner = await signUp(t);
    const site = await createSite(t, owner);
    const sector = await createSector(t, owner, site.id);
    const key = await createApiKey(t, owner, { name: 'to check' });
    const member = await addMember(t, owner, 'viewer');
    const routes: Parameters<typeof expectSecured>[1][] = [
      { method: 'GET', url: '/api/v1/auth/sites/', owner },
      { method: 'POST', url: '/api/v1/auth/sites/', owner, payload: { name: 'Checked' }, needs: 'admin' },
      { method: 'GET', url: `/api/v1/auth/sites/${site.id}/`, owner, objectScoped: true },
      {
        method: 'PATCH',
        url: `/api/v1/auth/sites/${site.id}/`,
        owner,
        payload: { description: 'x' },
        needs: 'admin',
        objectScoped: true,
      },
      { method: 'GET', url: '/api/v1/auth/sectors/', owner },
      {
        method: 'POST',
        url: '/api/v1/auth/sectors/',
        owner,
        payload: { site_id: site.id, name: 'Checked' },
        needs: 'admin',
        siteScopedBody: true,
      },
      { method: 'GET', url: `/api/v1/auth/sectors/${sector.id}/`, owner, objectScoped: true },
      {
        method: 'PATCH',
        url: `/api/v1/auth/sectors/${sector.id}/`,
        owner,
        payload: { name: 'y' },
        needs: 'admin',
        objectScoped: true,
      },
      { method: 'GET', url: '/api/v1/auth/users/', owner },
      {
        method: 'POST',
        url: '/api/v1/auth/users/',
        owner,
        payload: { email: uniqueEmail(), password: PASSWORD, role: 'viewer' },
        needs: 'admin',
      },
      { method: 'GET', url: `/api/v1/auth/users/${member.userId}/`, owner, objectScoped: true },
      {
        method: 'PATCH',
        url: `/api/v1/auth/users/${member.userId}/`,
        owner,
        payload: { first_name: 'Z' },
        needs: 'admin',
        objectScoped: true,
      },
      { method: 'GET', url: '/api/v1/account/settings/', owner },
      { method: 'PATCH', url: '/api/v1/account/settings/', owner, payload: { timezone: 'Europe/Paris' }, needs: 'admin' },
      { method: 'GET', url: '/api/v1/account/team/', owner },
      {
        method: 'PATCH',
        url: `/api/v1/account/team/${member.userId}/`,
        owner,
        payload: { role: 'viewer' },
        needs: 'admin',
        objectScoped: true,
      },
      {
        method: 'POST',
        url: '/api/v1/account/team/invite/',
        owner,
        payload: { email: uniqueEmail(), role: 'viewer' },
        needs: 'admin',
      },
      { method: 'GET', url: '/api/v1/account/api-keys/', owner, needs: 'admin' },
      { method: 'POST', url: '/api/v1/account/api-keys/', owner, payload: { name: 'k' }, needs: 'admin' },
      { method: 'GET', url: `/api/v1/account/api-keys/${key.id}/`, owner, needs: 'admin', objectScoped: true },
      { method: 'POST', url: `/api/v1/account/api-keys/${key.id}/rotate/`, owner, needs: 'admin', objectScoped: true },
      { method: 'DELETE', url: `/api/v1/account/api-keys/${key.id}/`, owner, needs: 'admin', objectScoped: true },
      { method: 'DELETE', url: `/api/v1/auth/sectors/${sector.id}/`, owner, needs: 'admin', objectScoped: true },
      { method: 'DELETE', url: `/api/v1/auth/users/${member.userId}/`, owner, needs: 'admin', objectScoped: true },
      { method: 'DELETE', url: `/api/v1/auth/sites/${site.id}/`, owner, needs: 'admin', objectScoped: true },
    ];
    for (const route of routes) await expectSecured(t, route);
    for (const url of ['/api/v1/auth/me/', '/api/v1/auth/sessions/']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(401);
    }
  });
});
