import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStaff, type SignedUp, signUp } from './factories.js';
import { buildTestApp, type TestApp } from './harness.js';
import { expectSecured } from './security.js';

/**
 * Every staff route (`/api/v1/admin/…`, read from the OpenAPI document so a new one is covered without being
 * listed here) goes through the shared security checks: no credential and a bad one are 401, an account's owner
 * who is not staff (and their admin key) is 403, and a GET answers staff with a 200.
 */

let t: TestApp;
let staff: SignedUp;
let customer: SignedUp;
beforeAll(async () => {
  t = await buildTestApp();
  staff = await makeStaff(t, await signUp(t, { account_name: 'Platform' }));
  customer = await signUp(t, { account_name: 'Customer' });
  // One mail in the outbox, so its detail route has an object to name.
  const reset = await t.request({ method: 'POST', url: '/api/v1/auth/password-reset/', payload: { email: customer.email } });
  expect(reset.statusCode).toBeLessThan(300);
  // No credit pack ships by default: one for the pack detail routes.
  const pack = await t.request({
    method: 'POST',
    url: '/api/v1/admin/credit-packs/',
    headers: staff.headers,
    payload: { name: 'Starter pack', slug: 'starter-pack', credits: 500, price_cents: 900 },
  });
  expect(pack.statusCode, pack.body).toBe(201);
});
afterAll(() => t?.close());

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** An id that exists for a path's `{id}`: the customer's account, else the first row of the collection. */
async function idFor(path: string): Promise<number> {
  const collection = path.slice(0, path.indexOf('{'));
  if (collection === '/api/v1/admin/accounts/') return customer.accountId;
  const list = await t.request({ method: 'GET', url: collection, headers: staff.headers });
  expect(list.statusCode, `GET ${collection} as staff`).toBe(200);
  const first = (list.json().data.results as { id: number }[])[0];
  if (!first) throw new Error(`${collection} has no row to name in ${path}`);
  return first.id;
}

describe('staff routes', () => {
  it('every one holds the shared security checks', async () => {
    const document = (await t.request({ method: 'GET', url: '/api/schema' })).json();
    const routes: { method: Method; path: string }[] = [];
    for (const [path, operations] of Object.entries(document.paths as Record<string, Record<string, unknown>>)) {
      if (!path.startsWith('/api/v1/admin/')) continue;
      for (const method of Object.keys(operations)) {
        if (['get', 'post', 'put', 'patch', 'delete'].includes(method))
          routes.push({ method: method.toUpperCase() as Method, path });
      }
    }
    // The issue counted 26; a route added later only raises the number.
    expect(routes.length).toBeGreaterThanOrEqual(26);
    for (const { method, path } of routes) {
      const url = path.includes('{') ? path.replace(/\{[^}]+\}/g, String(await idFor(path))) : path;
      await expectSecured(t, {
        method,
        url: url.endsWith('/') ? url : `${url}/`,
        owner: staff,
        needs: 'staff',
        ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }),
      });
    }
  });
});
