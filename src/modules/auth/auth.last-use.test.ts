import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, signUp } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';

/** Sign-in answers show this sign-in, and a session's last use moves as it is used (written at most once a minute). */

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

describe('last use', () => {
  it('login answers the new last_login_at', async () => {
    const who = await signUp(t);
    const before = Date.now();
    const login = await t.request({
      method: 'POST',
      url: '/api/v1/auth/login/',
      payload: { email: who.email, password: PASSWORD },
    });
    expect(login.statusCode, login.body).toBe(200);
    const shown = Date.parse(login.json().data.user.last_login_at);
    expect(shown).toBeGreaterThanOrEqual(before - 5);
    const me = await t.request({
      method: 'GET',
      url: '/api/v1/auth/me/',
      headers: { authorization: `Bearer ${login.json().data.access}` },
    });
    expect(Date.parse(me.json().data.user.last_login_at)).toBe(shown);
  });

  it("a session's last_used_at moves when the session is used", async () => {
    const who = await signUp(t);
    const list = () => t.request({ method: 'GET', url: '/api/v1/auth/sessions/', headers: who.headers });
    const first = (await list()).json().data.results[0];
    const created = Date.parse(first.last_used_at);
    let seen = created;
    for (let attempt = 0; attempt < 100 && seen <= created; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen = Date.parse((await list()).json().data.results[0].last_used_at);
    }
    expect(seen).toBeGreaterThan(created);
  });
});
