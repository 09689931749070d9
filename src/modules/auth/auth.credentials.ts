import { hash as argon2Hash, verify as verifyPassword } from '@node-rs/argon2';
import type { Redis } from 'ioredis';
import { type Client, type Credential, isWellFormedApiKey, sha256, verifyAccessToken } from '../../core/auth.js';
import type { Config } from '../../core/config.js';
import type { Db } from '../../core/db.js';
import { AppError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { ApiKeyScope, RequestContext, Role } from '../../core/tenancy.js';
import * as repo from './auth.repository.js';

/**
 * Turns what a request presents into a RequestContext. The hot paths (JWT, API key) answer from an in-process
 * cache, so an authenticated request costs no query once warm; every revocation in this process drops the
 * cached entries at once, and a short TTL bounds how long another process may still trust a revoked one.
 */

const CACHE_TTL_MS = 30_000;

/** argon2id per `PASSWORD_HASH_COST`: the library's defaults (19 MiB, 2 passes), or a token cost for test suites. */
const HASH_OPTIONS = {
  standard: { algorithm: 2 },
  test: { algorithm: 2, memoryCost: 256, timeCost: 1 },
} as const;
const KEY_TOUCH_INTERVAL_MS = 60_000;

interface Cached<T> {
  value: T;
  expires: number;
}

class TtlCache<K, V> {
  private readonly entries = new Map<K, Cached<V>>();
  constructor(
    private readonly ttlMs: number,
    private readonly max = 50_000,
  ) {}
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires < Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }
  set(key: K, value: V): void {
    if (this.entries.size >= this.max) this.entries.clear();
    this.entries.set(key, { value, expires: Date.now() + this.ttlMs });
  }
  deleteWhere(predicate: (value: V, key: K) => boolean): void {
    for (const [key, entry] of this.entries) if (predicate(entry.value, key)) this.entries.delete(key);
  }
}

const SCOPE_ROLE: Array<[ApiKeyScope, Role]> = [
  ['admin', 'admin'],
  ['write', 'editor'],
  ['read', 'viewer'],
];

export function roleForScopes(scopes: ApiKeyScope[]): Role | null {
  return SCOPE_ROLE.find(([scope]) => scopes.includes(scope))?.[1] ?? null;
}

/** Counts attempts per IP in fixed windows, before any password is hashed: in Redis when set, else here. */
function createAttemptLimiter(config: Config, redis: Redis | null) {
  const { max, windowSeconds } = config.throttle.rates.auth;
  const local = new Map<string, { count: number; resetAt: number }>();
  return async function allow(ip: string): Promise<{ allowed: boolean; retryAfter: number }> {
    if (config.throttle.disabled) return { allowed: true, retryAfter: 0 };
    if (redis) {
      const key = `contentflow:auth-attempts:${ip}`;
      try {
        const [[, count], [, ttl]] = (await redis.multi().incr(key).pttl(key).exec()) as [[null, number], [null, number]];
        if (ttl < 0) await redis.pexpire(key, windowSeconds * 1000);
        return { allowed: count <= max, retryAfter: Math.ceil((ttl < 0 ? windowSeconds * 1000 : ttl) / 1000) };
      } catch {
        // Redis down: fall through to the process's own counters rather than lock everyone out.
      }
    }
    const now = Date.now();
    let entry = local.get(ip);
    if (!entry || entry.resetAt <= now) {
      if (local.size > 100_000) local.clear();
      entry = { count: 0, resetAt: now + windowSeconds * 1000 };
      local.set(ip, entry);
    }
    entry.count++;
    return { allowed: entry.count <= max, retryAfter: Math.ceil((entry.resetAt - now) / 1000) };
  };
}

/**
 * The API keys as the credential check reads them. The account module owns keys (it creates, rotates and
 * revokes them); it implements this, wired in modules.ts.
 */
export interface ApiKeyLookup {
  /** The unrevoked key with this hash (expired ones too: the caller checks expiry, and caches either way). */
  liveByHash(hash: string): Promise<
    | {
        id: number;
        prefix: string;
        name: string;
        scopes: ApiKeyScope[];
        site_id: number | null;
        account_id: number;
        expires_at: Date | null;
      }
    | undefined
  >;
  /** Records the key's last use. */
  touch(id: number, at: Date): Promise<void>;
}

export function createCredentials(deps: { db: Db; config: Config; redis: Redis | null; log: Logger; apiKeys: ApiKeyLookup }) {
  const { db, config } = deps;
  /** session id + account id → the context a JWT of that session resolves to (null: revoked or gone). */
  const sessions = new TtlCache<string, RequestContext | null>(CACHE_TTL_MS);
  /** API key → the context it resolves to (null: unknown, revoked or expired). */
  const apiKeys = new TtlCache<string, { ctx: RequestContext; expiresAt: number | null } | null>(CACHE_TTL_MS);
  const keyTouchedAt = new Map<number, number>();
  const sessionTouchedAt = new Map<number, number>();
  const allowAttempt = createAttemptLimiter(config, deps.redis);

  async function userContext(
    user: repo.UserRow,
    accountId: number | null,
    sessionId: number | null,
    scheme: RequestContext['scheme'],
  ): Promise<RequestContext | null> {
    if (!user.is_active) return null;
    const base = {
      scheme,
      user: { id: user.id, email: user.email, is_staff: user.is_staff, is_superuser: user.is_superuser },
      apiKey: null,
      sessionId,
    };
    if (accountId === null) return { ...base, accountId: null, role: null, siteIds: null };
    const [member, account] = await Promise.all([repo.membership(db, accountId, user.id), repo.accountById(db, accountId)]);
    // A membership removed since the token was issued: the token no longer speaks for that account.
    if (!member || !account || account.status !== 'active') return null;
    const limited = (member.role === 'editor' || member.role === 'viewer') && member.site_ids.length > 0;
    return { ...base, accountId, role: member.role, siteIds: limited ? member.site_ids : null };
  }

  async function fromJwt(token: string): Promise<RequestContext> {
    const claims = await verifyAccessToken(config.secretKey, token);
    const cacheKey = `${claims.sessionId}:${claims.accountId}`;
    let ctx = sessions.get(cacheKey);
    if (ctx === undefined) {
      const session = await repo.sessionById(db, claims.sessionId);
      const live = session && session.user_id === claims.userId && !session.revoked_at && session.expires_at > new Date();
      const user = live ? await repo.userById(db, claims.userId) : undefined;
      ctx = user ? await userContext(user, claims.accountId, claims.sessionId, 'jwt') : null;
      sessions.set(cacheKey, ctx);
    }
    if (!ctx) throw new AppError('authentication_failed', 'This access token has been revoked; sign in again.');
    touchSession(claims.sessionId);
    return ctx;
  }

  /** A session's `last_used_at`, like a key's: at most once a minute per session, after the answer. */
  function touchSession(id: number): void {
    const now = Date.now();
    if ((sessionTouchedAt.get(id) ?? 0) > now - KEY_TOUCH_INTERVAL_MS) return;
    sessionTouchedAt.set(id, now);
    setImmediate(() => {
      repo.touchSession(db, id, new Date(now)).catch((error) => deps.log.warn({ err: error }, 'could not record session use'));
    });
  }

  async function fromApiKey(key: string): Promise<RequestContext> {
    // Cached under the key as presented, so a warm key costs neither the checksum nor the hash.
    let entry = apiKeys.get(key);
    if (entry === undefined) {
      if (!isWellFormedApiKey(key)) throw new AppError('authentication_failed', 'Invalid API key.');
      const hash = sha256(key);
      const row = await deps.apiKeys.liveByHash(hash);
      const account = row ? await repo.accountById(db, row.account_id) : undefined;
      entry =
        row && account?.status === 'active'
          ? {
              expiresAt: row.expires_at?.getTime() ?? null,
              ctx: {
                scheme: 'api_key',
                user: null,
                apiKey: { id: row.id, prefix: row.prefix, name: row.name, scopes: row.scopes, site_id: row.site_id },
                sessionId: null,
                accountId: row.account_id,
                role: roleForScopes(row.scopes),
                siteIds: row.site_id === null ? null : [row.site_id],
              },
            }
          : null;
      apiKeys.set(key, entry);
    }
    if (!entry || (entry.expiresAt !== null && entry.expiresAt <= Date.now())) {
      throw new AppError('authentication_failed', 'Invalid, revoked or expired API key.');
    }
    touchApiKey(entry.ctx.apiKey?.id as number);
    return entry.ctx;
  }

  /** `last_used_at`, written at most once a minute per key, after the answer and never on its path. */
  function touchApiKey(id: number): void {
    const now = Date.now();
    if ((keyTouchedAt.get(id) ?? 0) > now - KEY_TOUCH_INTERVAL_MS) return;
    keyTouchedAt.set(id, now);
    setImmediate(() => {
      deps.apiKeys.touch(id, new Date(now)).catch((error) => deps.log.warn({ err: error }, 'could not record API key use'));
    });
  }

  async function fromSessionCookie(token: string): Promise<RequestContext> {
    const session = await repo.sessionByCookieHash(db, sha256(token));
    if (!session || session.revoked_at || session.expires_at <= new Date()) {
      throw new AppError('authentication_failed', 'The session has ended; sign in again.');
    }
    const cacheKey = `${session.id}:${session.account_id}`;
    let ctx = sessions.get(cacheKey);
    if (ctx === undefined) {
      const user = await repo.userById(db, session.user_id);
      ctx = user ? await userContext(user, session.account_id, session.id, 'session') : null;
      sessions.set(cacheKey, ctx);
    }
    if (!ctx) throw new AppError('authentication_failed', 'The session has ended; sign in again.');
    touchSession(session.id);
    return { ...ctx, scheme: 'session' };
  }

  async function fromBasic(client: Pick<Client, 'ip'>, email: string, password: string): Promise<RequestContext> {
    const attempt = await allowAttempt(client.ip);
    if (!attempt.allowed) {
      throw new AppError('throttled', `Too many sign-in attempts; try again in ${attempt.retryAfter} seconds.`, {
        headers: { 'Retry-After': String(attempt.retryAfter) },
      });
    }
    const user = await checkPassword(email, password);
    if (!user) throw new AppError('authentication_failed', 'Invalid email or password.');
    return (await userContext(user, user.last_account_id, null, 'basic')) ?? failed();
  }

  /** The hash a new password is stored as (verification reads the cost from the hash itself). */
  const hashPassword = (password: string) => argon2Hash(password, HASH_OPTIONS[config.passwordHashCost]);

  // Verifying against a real hash for unknown emails keeps their answer as slow as a wrong password's.
  let dummyHash: Promise<string> | null = null;
  async function checkPassword(email: string, password: string): Promise<repo.UserRow | null> {
    const user = await repo.userByEmail(db, email);
    if (!user) {
      dummyHash ??= hashPassword('not-a-real-password-just-for-timing');
      await verifyPassword(await dummyHash, password).catch(() => false);
      return null;
    }
    const valid = await verifyPassword(user.password_hash, password).catch(() => false);
    return valid && user.is_active ? user : null;
  }

  return {
    allowAttempt,
    hashPassword,
    checkPassword,
    /** The context a credential resolves to (null: none presented); refused credentials throw. */
    async authenticate(credential: Credential | null, client: Pick<Client, 'ip'>): Promise<RequestContext | null> {
      if (!credential) return null;
      switch (credential.kind) {
        case 'jwt':
          return fromJwt(credential.token);
        case 'api_key':
          return fromApiKey(credential.key);
        case 'session':
          return fromSessionCookie(credential.token);
        case 'basic':
          return fromBasic(client, credential.email, credential.password);
      }
    },
    /** Called on every revocation or membership change in this process. */
    forgetSessions(sessionIds: number[]): void {
      const ids = new Set(sessionIds.map(String));
      sessions.deleteWhere((_value, key) => ids.has(key.split(':')[0] as string));
    },
    forgetUser(userId: number): void {
      sessions.deleteWhere((value) => value?.user?.id === userId);
    },
    forgetAccount(accountId: number): void {
      sessions.deleteWhere((value) => value?.accountId === accountId);
      apiKeys.deleteWhere((value) => value?.ctx.accountId === accountId);
    },
    /** Every cached credential (a change whose accounts are not known, or notifications lost and back). */
    forgetAll(): void {
      sessions.deleteWhere(() => true);
      apiKeys.deleteWhere(() => true);
    },
    forgetApiKey(keyId: number): void {
      apiKeys.deleteWhere((value) => value?.ctx.apiKey?.id === keyId);
    },
  };
}
export type Credentials = ReturnType<typeof createCredentials>;

function failed(): never {
  throw new AppError('authentication_failed', 'Invalid email or password.');
}
