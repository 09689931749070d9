import { sql } from 'drizzle-orm';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok } from '../src/core/envelope.js';
import { type SignedUp, signUp } from './factories.js';
import { buildTestApp, type TestApp } from './harness.js';

/**
 * Idempotency-Key on authenticated POSTs (core/idempotency.ts): replay of the stored answer, another body or
 * path is 422, a repeat while the first runs is 409, 5xx answers are not stored, keys are per account and last
 * 24 hours. A test-only route counts its runs and can be held open or made to fail; one real route
 * (creating a site) is checked end to end.
 */

let t: TestApp;
let owner: SignedUp;
let runs = 0;
let hold: Promise<void> | null = null;

beforeAll(async () => {
  t = await buildTestApp(
    {},
    {
      routes: (app) => {
        app.post(
          '/test/things',
          {
            schema: { hide: true, body: Type.Object({ name: Type.String(), fail: Type.Optional(Type.Boolean()) }) },
            config: { access: 'write' },
          },
          async (request, reply) => {
            runs++;
            if (hold) await hold;
            const body = request.body as { name: string; fail?: boolean };
            if (body.fail) throw new Error('the handler failed');
            reply.code(201);
            return ok(request, { run: runs, name: body.name });
          },
        );
      },
    },
  );
  owner = await signUp(t);
});
afterAll(() => t.close());

let keySequence = 0;
const newKey = () => `key-${process.pid}-${++keySequence}`;
function post(who: SignedUp, key: string | null, body: unknown, url = '/test/things') {
  return t.request({
    method: 'POST',
    url,
    headers: { ...who.headers, 'content-type': 'application/json', ...(key === null ? {} : { 'idempotency-key': key }) },
    payload: JSON.stringify(body),
  });
}

describe('Idempotency-Key', () => {
  it('a repeat with the same key and body replays the stored answer without running again', async () => {
    const key = newKey();
    const first = await post(owner, key, { name: 'a' });
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const before = runs;
    const again = await post(owner, key, { name: 'a' });
    expect(runs).toBe(before);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['content-type']).toMatch(/^application\/json/);
    expect(again.body).toBe(first.body);
    expect(again.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
  });

  it('without a key every POST runs', async () => {
    const before = runs;
    await post(owner, null, { name: 'b' });
    await post(owner, null, { name: 'b' });
    expect(runs).toBe(before + 2);
  });

  it('the same key with another body or path is 422 idempotency_key_reused', async () => {
    const key = newKey();
    await post(owner, key, { name: 'c' });
    const other = await post(owner, key, { name: 'd' });
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ success: false, code: 'idempotency_key_reused' });
    const elsewhere = await post(owner, key, { name: 'c' }, '/api/v1/auth/sites/');
    expect(elsewhere.statusCode).toBe(422);
  });

  it('a repeat while the first is still running is 409 idempotency_conflict', async () => {
    const key = newKey();
    let release = () => {};
    hold = new Promise((resolve) => (release = resolve));
    const first = post(owner, key, { name: 'e' });
    try {
      // Let the first request claim its key and reach the handler.
      for (let i = 0; i < 50; i++) {
        const claimed = await t.database.db.execute(sql`select 1 from system_idempotency_keys where key = ${key}`);
        if ((claimed as unknown as { rows: unknown[] }).rows.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const second = await post(owner, key, { name: 'e' });
      expect(second.statusCode).toBe(409);
      expect(second.json().code).toBe('idempotency_conflict');
    } finally {
      hold = null;
      release();
    }
    expect((await first).statusCode).toBe(201);
    expect((await post(owner, key, { name: 'e' })).headers['idempotent-replayed']).toBe('true');
  });

  it('a 5xx answer is not stored: a retry runs again', async () => {
    const key = newKey();
    const before = runs;
    const failed = await post(owner, key, { name: 'f', fail: true });
    expect(failed.statusCode).toBe(500);
    const retried = await post(owner, key, { name: 'f', fail: true });
    expect(retried.statusCode).toBe(500);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(runs).toBe(before + 2);
  });

  it('keys belong to one account', async () => {
    const key = newKey();
    const other = await signUp(t);
    const mine = await post(owner, key, { name: 'g' });
    const theirs = await post(other, key, { name: 'g' });
    expect(theirs.statusCode).toBe(201);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.json().data.run).not.toBe(mine.json().data.run);
  });

  it('a stored answer lasts 24 hours', async () => {
    const key = newKey();
    await post(owner, key, { name: 'h' });
    await t.database.db.execute(
      sql`update system_idempotency_keys set created_at = now() - interval '25 hours' where key = ${key}`,
    );
    const later = await post(owner, key, { name: 'other body, after expiry' });
    expect(later.statusCode).toBe(201);
    expect(later.headers['idempotent-replayed']).toBeUndefined();
  });

  it('a key over 255 characters is a 400', async () => {
    const res = await post(owner, 'k'.repeat(256), { name: 'i' });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_error');
  });

  it('a real create (a site) happens once for one key', async () => {
    const key = newKey();
    const first = await post(owner, key, { name: 'Idempotent site' }, '/api/v1/auth/sites/');
    expect(first.statusCode).toBe(201);
    const again = await post(owner, key, { name: 'Idempotent site' }, '/api/v1/auth/sites/');
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().data.id).toBe(first.json().data.id);
    const list = await t.request({ method: 'GET', url: '/api/v1/auth/sites/?search=Idempotent', headers: owner.headers });
    expect(list.json().data.count).toBe(1);
  });
});
