import { expect } from 'vitest';
import { addMember, createApiKey, createSector, createSite, type SignedUp, signUp } from './factories.js';
import type { TestApp } from './harness.js';

/**
 * The shared security checks every route runs through (issue 3), given a route and an account that owns
 * what the URL names:
 *  - no credential → 401 not_authenticated (with WWW-Authenticate), and a garbage one → 401
 *  - a role or key scope below what the route needs → 403 (a viewer and a read-only key on writes;
 *    an editor on admin routes)
 *  - a member of another account calling the same URL → 404 for an object, never its data in a list
 *  - another account's `site_id` (and `sector_id`) in the body → 400 field error
 *  - a GET answers 200 to the owner and to the other account (a list answering 500 fails here)
 *  - staff routes (`needs: 'staff'`, the owner being staff): an account's owner who is not staff → 403
 * Each check sends the request exactly as the owner would, so a failure names the one thing that differs.
 */

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface SecuredRoute {
  method: Method;
  /** A URL of something `owner` has: a collection, an object, or an action on one. */
  url: string;
  payload?: unknown;
  owner: SignedUp;
  /** What the route needs; default `read` for GET, `write` otherwise. `staff`: `owner` must be platform staff. */
  needs?: 'read' | 'write' | 'admin' | 'owner' | 'staff';
  /** The URL names one object of the owner's (detail, update, delete, action): another account gets 404. */
  objectScoped?: boolean;
  /** The body carries `site_id` (and `sector_id`): another account's → 400 naming that field. */
  siteScopedBody?: boolean;
}

/** A second, unrelated account with a site and sector, made once per test app. */
const strangers = new WeakMap<TestApp, Promise<{ who: SignedUp; siteId: number; sectorId: number }>>();
function strangerOf(t: TestApp) {
  let stranger = strangers.get(t);
  if (!stranger) {
    stranger = (async () => {
      const who = await signUp(t, { account_name: 'Stranger Co' });
      const site = await createSite(t, who, 'Stranger site');
      const sector = await createSector(t, who, site.id, 'Stranger sector');
      return { who, siteId: site.id, sectorId: sector.id };
    })();
    strangers.set(t, stranger);
  }
  return stranger;
}

/** One member per role and one read-only key per owner, reused across checks (plans cap members at 5). */
const membersOf = new WeakMap<SignedUp, Map<string, Promise<SignedUp>>>();
function memberOf(t: TestApp, owner: SignedUp, role: 'viewer' | 'editor' | 'admin') {
  let byRole = membersOf.get(owner);
  if (!byRole) {
    byRole = new Map();
    membersOf.set(owner, byRole);
  }
  let member = byRole.get(role);
  if (!member) {
    member = addMember(t, owner, role);
    byRole.set(role, member);
  }
  return member;
}
const readKeysOf = new WeakMap<SignedUp, ReturnType<typeof createApiKey>>();
function readKeyOf(t: TestApp, owner: SignedUp) {
  let key = readKeysOf.get(owner);
  if (!key) {
    key = createApiKey(t, owner, { name: 'read-only', scopes: ['read'] });
    readKeysOf.set(owner, key);
  }
  return key;
}

const adminKeysOf = new WeakMap<SignedUp, ReturnType<typeof createApiKey>>();
function adminKeyOf(t: TestApp, owner: SignedUp) {
  let key = adminKeysOf.get(owner);
  if (!key) {
    key = createApiKey(t, owner, { name: 'admin', scopes: ['read', 'write', 'admin'] });
    adminKeysOf.set(owner, key);
  }
  return key;
}

/** The one who may read it gets a 200 (a refusal for everyone else proves nothing if the route is broken). */
async function expectAnswered(
  send: (headers: Record<string, string>) => Promise<{ statusCode: number; body: string }>,
  who: SignedUp,
  label: string,
): Promise<void> {
  expectServed(await send(who.headers), `${label} as its owner`);
}

/** 200, or 503 `service_unavailable` for a provider this installation has not configured (Stripe, AI). */
function expectServed(res: { statusCode: number; body: string }, label: string): void {
  const unconfigured = res.statusCode === 503 && res.body.includes('"service_unavailable"');
  if (!unconfigured) expect(res.statusCode, `${label}: ${res.body.slice(0, 300)}`).toBe(200);
}

const roleOrder = ['viewer', 'editor', 'admin', 'owner'] as const;
const neededRole = { read: 'viewer', write: 'editor', admin: 'admin', owner: 'owner' } as const;

export async function expectSecured(t: TestApp, route: SecuredRoute): Promise<void> {
  const needs = route.needs ?? (route.method === 'GET' ? 'read' : 'write');
  const send = (headers: Record<string, string>, payload = route.payload) =>
    t.request({
      method: route.method,
      url: route.url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const label = `${route.method} ${route.url}`;

  const anonymous = await send({});
  expect(anonymous.statusCode, `${label} without credentials`).toBe(401);
  expect(anonymous.json().code, `${label} without credentials`).toBe('not_authenticated');
  expect(anonymous.headers['www-authenticate'], `${label} WWW-Authenticate`).toBeDefined();

  const garbage = await send({ authorization: 'Bearer not-a-real-token' });
  expect(garbage.statusCode, `${label} with a bad key`).toBe(401);

  if (needs === 'staff') {
    // No role in an account reaches a staff route: the other account's owner, and an admin key of theirs.
    const stranger = await strangerOf(t);
    const asOwner = await send(stranger.who.headers);
    expect(asOwner.statusCode, `${label} as an account owner who is not staff`).toBe(403);
    expect(asOwner.json().code, `${label} as an account owner who is not staff`).toBe('permission_denied');
    const key = await adminKeyOf(t, stranger.who);
    expect((await send(key.headers)).statusCode, `${label} with an admin key`).toBe(403);
    if (route.method === 'GET') await expectAnswered(send, route.owner, label);
    return;
  }

  // Every role below the one needed is refused, and so is a key whose scopes fall short.
  const below = roleOrder.slice(0, roleOrder.indexOf(neededRole[needs]));
  for (const role of below) {
    if (role === 'owner') continue;
    const member = await memberOf(t, route.owner, role);
    const res = await send(member.headers);
    expect(res.statusCode, `${label} as ${role}`).toBe(403);
    expect(res.json().code, `${label} as ${role}`).toBe('permission_denied');
  }
  if (needs !== 'read') {
    const readOnly = await readKeyOf(t, route.owner);
    const res = await send(readOnly.headers);
    expect(res.statusCode, `${label} with a read-only key`).toBe(403);
  }

  const stranger = await strangerOf(t);
  if (route.objectScoped) {
    const res = await send(stranger.who.headers);
    expect(res.statusCode, `${label} from another account`).toBe(404);
    expect(res.json().code).toBe('not_found');
  } else if (route.method === 'GET') {
    // A list seen from another account never shows the owner's rows.
    const res = await send(stranger.who.headers);
    // Another account's view of a collection (or of its own settings) is its own, never an error: a 500 fails here.
    expectServed(res, `${label} from another account`);
    // CSV downloads and event streams are not envelopes: their rows are checked by their own tests.
    const isJson = String(res.headers['content-type'] ?? '').includes('json');
    if (isJson && Array.isArray(res.json().data?.results)) {
      for (const row of res.json().data.results as Array<{ account_id?: number }>) {
        if (row.account_id !== undefined) expect(row.account_id, `${label} leaked a row`).toBe(stranger.who.accountId);
      }
    }
  }

  if (route.method === 'GET') await expectAnswered(send, route.owner, label);

  if (route.siteScopedBody && route.payload && typeof route.payload === 'object') {
    const body = route.payload as Record<string, unknown>;
    const withSite = await send(route.owner.headers, { ...body, site_id: stranger.siteId });
    expect(withSite.statusCode, `${label} with another account's site_id`).toBe(400);
    expect(withSite.json().errors?.site_id, `${label} names site_id`).toBeDefined();
    if ('sector_id' in body) {
      const withSector = await send(route.owner.headers, { ...body, sector_id: stranger.sectorId });
      expect(withSector.statusCode, `${label} with another account's sector_id`).toBe(400);
      expect(withSector.json().errors?.sector_id, `${label} names sector_id`).toBeDefined();
    }
  }
}
