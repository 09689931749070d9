import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, signUp, uniqueEmail } from './factories.js';
import { buildTestApp, type TestApp } from './harness.js';
import { stepsJob } from './job-types.js';

/**
 * The app's real log output (its own logger options, through a pino destination stream) while queries fail:
 * the log holds the failed statement but never its values, and no line anywhere holds a credential's shape.
 */

const lines: string[] = [];
const stream = new Writable({
  write(chunk, _encoding, done) {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    done();
  },
});

const SECRET_SHAPES: [string, RegExp][] = [
  ['argon2 hash', /\$argon2id\$/],
  ['JWT', /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/],
  ['API key', /ik_live_[0-9A-Za-z]/],
  ['64-hex hash', /\b[0-9a-f]{64}\b/i],
];

let t: TestApp;
const passwords = ['a fresh registration passphrase', 'my renewed passphrase', PASSWORD];
beforeAll(async () => {
  t = await buildTestApp(
    { LOG_LEVEL: 'debug', WORKER: 'true', JOBS_POLL_MS: '50', SHUTDOWN_GRACE_SECONDS: '1' },
    { logStream: stream, jobs: [stepsJob] },
  );
});
afterAll(() => t?.close());

/** Makes every insert or update on a table fail inside the database, as a broken constraint or disk would. */
async function breakWrites(table: string) {
  await t.database.db.execute(
    sql.raw(`CREATE OR REPLACE FUNCTION test_refuse_write() RETURNS trigger AS $$
      BEGIN RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql`),
  );
  await t.database.db.execute(
    sql.raw(
      `CREATE TRIGGER test_refuse_${table} BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION test_refuse_write()`,
    ),
  );
  return () => t.database.db.execute(sql.raw(`DROP TRIGGER test_refuse_${table} ON ${table}`));
}

function expectGeneric500(res: { statusCode: number; body: string }) {
  expect(res.statusCode, res.body).toBe(500);
  const body = JSON.parse(res.body);
  expect(body).toEqual({
    success: false,
    error: 'Something went wrong on our side; the error has been logged.',
    code: 'internal_error',
    request_id: expect.any(String),
  });
  return body.request_id as string;
}

describe('logs and answers of failed queries', () => {
  it('log the failed statement, never its values, and answer a generic 500 with the request id', async () => {
    const owner = await signUp(t);
    const login = (
      await t.request({ method: 'POST', url: '/api/v1/auth/login/', payload: { email: owner.email, password: PASSWORD } })
    ).json().data;
    const headers = { authorization: `Bearer ${login.access}` };

    // A registration whose user insert fails: its parameters hold the new argon2 hash.
    let restore = await breakWrites('auth_users');
    const register = await t.request({
      method: 'POST',
      url: '/api/v1/auth/register/',
      payload: { email: uniqueEmail('broken'), password: passwords[0], account_name: 'Broken Co' },
    });
    const registerId = expectGeneric500(register);
    // A password change whose update fails, with the new hash as a parameter.
    const change = await t.request({
      method: 'POST',
      url: '/api/v1/auth/change-password/',
      headers,
      payload: { old_password: PASSWORD, new_password: passwords[1] },
    });
    expectGeneric500(change);
    await restore();

    // An API key whose insert fails: its parameters hold the key's sha256 hash (64 hex) and its prefix.
    restore = await breakWrites('account_api_keys');
    const key = await t.request({ method: 'POST', url: '/api/v1/account/api-keys/', headers, payload: { name: 'CI' } });
    expectGeneric500(key);
    await restore();

    // A job failing as a bug does, with a driver error carrying the query and a hash as its parameter.
    const task = await t.database.db.transaction((tx) =>
      t.app.services.jobs.startTask(tx, { accountId: owner.accountId, actorId: owner.userId }, 'test.steps', {
        account_id: owner.accountId,
        steps: 1,
        delay_ms: 0,
        bug: true,
      }),
    );
    let failedTask: { status: string; error: { code: string } | null } = { status: 'queued', error: null };
    for (let i = 0; i < 800 && failedTask.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 25));
      failedTask = (await t.request({ method: 'GET', url: `/api/v1/system/tasks/${task.id}/`, headers })).json().data;
    }
    expect(failedTask.error?.code).toBe('internal_error');

    // The detail is in the log, under the request id: the statement, not its values.
    const unhandled = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'unhandled error' && l.request_id === registerId);
    expect(unhandled?.err?.message).toMatch(/insert into "auth_users"/i);
    expect(unhandled?.err?.message).toMatch(/params: \[redacted\]/);
    expect(lines.some((l) => l.includes('"job failed"'))).toBe(true);

    for (const line of lines) {
      for (const [name, shape] of SECRET_SHAPES)
        expect(shape.test(line), `${name} in a log line: ${line.slice(0, 500)}`).toBe(false);
      for (const password of passwords)
        expect(line.includes(password), `a password in a log line: ${line.slice(0, 300)}`).toBe(false);
    }
  });
});
