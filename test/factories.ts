import { type SQL, sql } from 'drizzle-orm';
import type { TestApp } from './harness.js';

/**
 * Builders for what most tests need: a signed-up account (owner), members with a role, sites, sectors and
 * API keys, all made through the public API as a user would.
 */

export interface SignedUp {
  accountId: number;
  userId: number;
  email: string;
  password: string;
  access: string;
  refresh: string;
  headers: Record<string, string>;
}

let sequence = 0;
export const uniqueEmail = (label = 'user') => `${label}-${process.pid}-${++sequence}-${Date.now().toString(36)}@example.com`;
export const PASSWORD = 'correct horse battery staple';

export async function signUp(
  t: TestApp,
  overrides: { email?: string; password?: string; account_name?: string } = {},
): Promise<SignedUp> {
  const email = overrides.email ?? uniqueEmail('owner');
  const password = overrides.password ?? PASSWORD;
  const res = await t.request({
    method: 'POST',
    url: '/api/v1/auth/register/',
    payload: { email, password, account_name: overrides.account_name ?? `Team ${sequence}` },
  });
  if (res.statusCode !== 201) throw new Error(`signUp failed: ${res.statusCode} ${res.body}`);
  const data = res.json().data;
  return {
    accountId: data.account.id,
    userId: data.user.id,
    email,
    password,
    access: data.access,
    refresh: data.refresh,
    headers: { authorization: `Bearer ${data.access}` },
  };
}

/** Adds a member with a role (and optional site limits) to the owner's account and signs them in. */
export async function addMember(
  t: TestApp,
  owner: SignedUp,
  role: 'owner' | 'admin' | 'editor' | 'viewer',
  siteIds: number[] = [],
): Promise<SignedUp> {
  const email = uniqueEmail(role);
  const created = await t.request({
    method: 'POST',
    url: '/api/v1/auth/users/',
    headers: owner.headers,
    payload: { email, password: PASSWORD, role, site_ids: siteIds },
  });
  if (created.statusCode !== 201) throw new Error(`addMember failed: ${created.statusCode} ${created.body}`);
  const login = await t.request({
    method: 'POST',
    url: '/api/v1/auth/login/',
    payload: { email, password: PASSWORD, account_id: owner.accountId },
  });
  if (login.statusCode !== 200) throw new Error(`member login failed: ${login.statusCode} ${login.body}`);
  const data = login.json().data;
  return {
    accountId: owner.accountId,
    userId: data.user.id,
    email,
    password: PASSWORD,
    access: data.access,
    refresh: data.refresh,
    headers: { authorization: `Bearer ${data.access}` },
  };
}

export async function createSite(t: TestApp, who: SignedUp, name = `Site ${++sequence}`): Promise<{ id: number; slug: string }> {
  const res = await t.request({ method: 'POST', url: '/api/v1/auth/sites/', headers: who.headers, payload: { name } });
  if (res.statusCode !== 201) throw new Error(`createSite failed: ${res.statusCode} ${res.body}`);
  return res.json().data;
}

export async function createSector(
  t: TestApp,
  who: SignedUp,
  siteId: number,
  name = `Sector ${++sequence}`,
): Promise<{ id: number; site_id: number }> {
  const res = await t.request({
    method: 'POST',
    url: '/api/v1/auth/sectors/',
    headers: who.headers,
    payload: { site_id: siteId, name },
  });
  if (res.statusCode !== 201) throw new Error(`createSector failed: ${res.statusCode} ${res.body}`);
  return res.json().data;
}

export async function createApiKey(
  t: TestApp,
  who: SignedUp,
  body: { name?: string; scopes?: string[]; site_id?: number | null } = {},
): Promise<{ id: number; key: string; headers: Record<string, string> }> {
  const res = await t.request({
    method: 'POST',
    url: '/api/v1/account/api-keys/',
    headers: who.headers,
    payload: { name: 'test key', ...body },
  });
  if (res.statusCode !== 201) throw new Error(`createApiKey failed: ${res.statusCode} ${res.body}`);
  const data = res.json().data;
  return { id: data.id, key: data.key, headers: { authorization: `Bearer ${data.key}` } };
}

/** Makes a signed-up user platform staff, in the database (as `npm run cli -- create-superuser` would). */
export async function makeStaff<T extends SignedUp>(t: TestApp, who: T): Promise<T> {
  await t.database.db.execute(sql`update auth_users set is_staff = true where id = ${who.userId}`);
  return who;
}

/** The rows a query answers on the test app's database (tests read what the API does not show). */
export async function rowsOf<T = Record<string, unknown>>(t: TestApp, query: SQL): Promise<T[]> {
  return ((await t.database.db.execute(query)) as unknown as { rows: T[] }).rows;
}
