import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, signUp } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { until } from '../../../test/wait.js';
import { auth_sessions } from './auth.tables.js';

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
    // Read before any use: the first use's write comes after its answer, and may land before that answer's own
    // read of the sessions (then the list would show it already, and nothing moves for a minute).
    const [session] = await t.database.db
      .select({ lastUsedAt: auth_sessions.last_used_at })
      .from(auth_sessions)
      .where(eq(auth_sessions.user_id, who.userId));
    const created = session?.lastUsedAt?.getTime() ?? 0;
    expect(created).toBeGreaterThan(0);
    // A use is stamped with its own moment: one in a later millisecond than the sign-up.
    await until(
      'a later millisecond',
      async () => Date.now(),
      (now) => now > created,
    );
    const list = () => t.request({ method: 'GET', url: '/api/v1/auth/sessions/', headers: who.headers });
    const seen = await until(
      'the use to be recorded',
      async () => Date.parse((await list()).json().data.results[0].last_used_at),
      (at) => at > created,
    );
    expect(seen).toBeGreaterThan(created);
  });
});
