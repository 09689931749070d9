import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createSite, type SignedUp, signUp, uniqueEmail } from './factories.js';
import { buildTestApp, type TestApp } from './harness.js';

/**
 * Links a client follows work as given: `Location` is absolute like `next`/`previous`, `Allow` names only methods
 * that exist, every list pages the contract's ways, and an invitation's `accept_url` opens something useful.
 */

let t: TestApp;
let owner: SignedUp;

beforeAll(async () => {
  t = await buildTestApp();
  owner = await signUp(t);
});
afterAll(() => t.close());

describe('Location', () => {
  it('is absolute, from the request when PUBLIC_URL is not set', async () => {
    const res = await t.request({
      method: 'POST',
      url: '/api/v1/auth/sites/',
      headers: owner.headers,
      payload: { name: 'Trail' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).toBe(`http://localhost:80/api/v1/auth/sites/${res.json().data.id}/`);
    const key = await t.request({
      method: 'POST',
      url: '/api/v1/account/api-keys/',
      headers: owner.headers,
      payload: { name: 'k' },
    });
    expect(key.headers.location).toMatch(/^http:\/\/localhost:80\/api\/v1\/account\/api-keys\/\d+\/$/);
  });

  it('is built from PUBLIC_URL when set', async () => {
    const other = await buildTestApp({ PUBLIC_URL: 'https://api.example.com' }, { database: t.database });
    try {
      const who = await signUp(other);
      const res = await other.request({
        method: 'POST',
        url: '/api/v1/auth/sites/',
        headers: who.headers,
        payload: { name: 'Road' },
      });
      expect(res.headers.location).toBe(`https://api.example.com/api/v1/auth/sites/${res.json().data.id}/`);
    } finally {
      await other.close();
    }
  });
});

describe('Allow on 405', () => {
  it('lists only the methods of the path asked, not those of a parametric sibling', async () => {
    const accept = await t.request({ method: 'PUT', url: '/api/v1/account/team/accept/' });
    expect(accept.statusCode).toBe(405);
    expect(accept.headers.allow).toBe('GET, POST');
    const site = await createSite(t, owner);
    const detail = await t.request({ method: 'POST', url: `/api/v1/auth/sites/${site.id}/`, headers: owner.headers });
    expect(detail.statusCode).toBe(405);
    expect(detail.headers.allow).toBe('GET, PUT, PATCH, DELETE');
  });
});

describe('lists loaded whole (members, sessions) page like every list', () => {
  it('takes page/page_size and limit/offset, with links, and refuses mixing them', async () => {
    await addMember(t, owner, 'viewer');
    await addMember(t, owner, 'editor');
    for (const url of ['/api/v1/auth/users/', '/api/v1/account/team/']) {
      const first = await t.request({ method: 'GET', url: `${url}?page_size=2`, headers: owner.headers });
      expect(first.statusCode, first.body).toBe(200);
      const page = first.json().data;
      expect(page.count).toBe(3);
      expect(page.results).toHaveLength(2);
      expect(page.next).toBe(`http://localhost:80${url}?page_size=2&page=2`);
      const second = (
        await t.request({ method: 'GET', url: new URL(page.next).pathname + new URL(page.next).search, headers: owner.headers })
      ).json().data;
      expect(second.results).toHaveLength(1);
      expect(second.results[0].id).not.toBe(page.results[0].id);
      const offset = (await t.request({ method: 'GET', url: `${url}?limit=1&offset=2`, headers: owner.headers })).json().data;
      expect(offset).toMatchObject({ count: 3, next: null });
      expect(offset.results).toHaveLength(1);
      expect((await t.request({ method: 'GET', url: `${url}?page=9`, headers: owner.headers })).statusCode).toBe(404);
      expect((await t.request({ method: 'GET', url: `${url}?page=1&limit=1`, headers: owner.headers })).statusCode).toBe(400);
      expect((await t.request({ method: 'GET', url: `${url}?search=x`, headers: owner.headers })).statusCode).toBe(400);
    }
    const sessions = await t.request({ method: 'GET', url: '/api/v1/auth/sessions/?limit=1', headers: owner.headers });
    expect(sessions.statusCode, sessions.body).toBe(200);
    expect(sessions.json().data.results).toHaveLength(1);
  });
});

describe("an invitation's accept_url", () => {
  it('opens the invitation (GET changes nothing), then accepts with a POST to the same path', async () => {
    const email = uniqueEmail('invitee');
    const invite = await t.request({
      method: 'POST',
      url: '/api/v1/account/team/invite/',
      headers: owner.headers,
      payload: { email, role: 'editor' },
    });
    expect(invite.statusCode, invite.body).toBe(201);
    const link = new URL(invite.json().data.accept_url);
    const opened = await t.request({ method: 'GET', url: link.pathname + link.search });
    expect(opened.statusCode, opened.body).toBe(200);
    expect(opened.json().data).toMatchObject({ email, role: 'editor', existing_user: false });
    // Opening it twice (a mail scanner, then the person) still leaves it to accept.
    expect((await t.request({ method: 'GET', url: link.pathname + link.search })).statusCode).toBe(200);
    const token = link.searchParams.get('token');
    const accepted = await t.request({
      method: 'POST',
      url: link.pathname,
      payload: { token, password: 'welcome aboard friend' },
    });
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect((await t.request({ method: 'GET', url: link.pathname + link.search })).statusCode).toBe(404);
    expect((await t.request({ method: 'GET', url: `${link.pathname}?token=not-a-token` })).statusCode).toBe(404);
  });
});
