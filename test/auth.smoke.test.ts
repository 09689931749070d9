import { afterAll, beforeAll, expect, it } from 'vitest';
import { addMember, createApiKey, createSector, createSite, signUp } from './factories.js';
import { type TestApp, buildTestApp } from './harness.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

it('signs up, creates a site, sector, member and key', async () => {
  const owner = await signUp(t);
  const me = await t.request({ method: 'GET', url: '/api/v1/auth/me/', headers: owner.headers });
  expect(me.statusCode, me.body).toBe(200);
  const site = await createSite(t, owner);
  const sector = await createSector(t, owner, site.id);
  expect(sector.site_id).toBe(site.id);
  const viewer = await addMember(t, owner, 'viewer');
  const key = await createApiKey(t, owner);
  const viaKey = await t.request({ method: 'GET', url: `/api/v1/auth/sites/${site.id}/`, headers: key.headers });
  expect(viaKey.statusCode, viaKey.body).toBe(200);
  const denied = await t.request({ method: 'POST', url: '/api/v1/auth/sites/', headers: viewer.headers, payload: { name: 'x' } });
  expect(denied.statusCode, denied.body).toBe(403);
});
