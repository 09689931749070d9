import { dictionary } from '@zxcvbn-ts/language-common';
import type { Redis } from 'ioredis';
import slugify from 'slugify';
import { type Client, randomToken, sha256, signAccessToken } from '../../core/auth.js';
import type { Config } from '../../core/config.js';
import type { Db } from '../../core/db.js';
import type { BodyRules } from '../../core/envelope.js';
import { AppError, fieldError, notFound, validationError } from '../../core/errors.js';
import { record } from '../../core/events.js';
import type { Logger } from '../../core/logger.js';
import type { Mailer } from '../../core/mailer.js';
import type { RequestContext } from '../../core/tenancy.js';
import { type ApiKeyLookup, createCredentials } from './auth.credentials.js';

/** The staff list of accounts' spec, for the admin module's query schema (billing lists them through auth). */
export { ACCOUNT_LIST } from './auth.repository.js';
/** What the account module implements for the credential check (its API keys), wired in src/modules.ts. */
export type { ApiKeyLookup };

import { createMembersService } from './auth.members.js';
import * as membersRepo from './auth.members.repository.js';
import * as repo from './auth.repository.js';

/**
 * Identity: registration, sign-in, token refresh with rotation and reuse detection, sign-out, sessions and
 * passwords. Sessions are rows; access tokens are short-lived JWTs naming one; refresh tokens and cookie
 * values are random and kept only as SHA-256 hashes.
 */

const COMMON_PASSWORDS = new Set(dictionary.passwords.slice(0, 20_000).map((p: string) => p.toLowerCase()));
const RESET_TTL_MS = 60 * 60 * 1000;

/**
 * A session's end, in its account's feed (a staff session without an account has none). The actor is the
 * session's own user: only they (signing out, or revoking one of their sessions) end it through the API.
 */
async function recordSessionRevoked(
  tx: Db,
  session: { id: number; user_id: number; account_id: number | null },
  reason: string,
): Promise<void> {
  if (session.account_id === null) return;
  await record(tx, {
    account_id: session.account_id,
    type: 'session.revoked',
    source_agent: 'api',
    actor_id: session.user_id,
    object_type: 'session',
    object_id: session.id,
    payload: { reason },
  });
}

/**
 * A password change concerns the person in every account they belong to, so each of those feeds records it
 * (the payload never holds the password or its hash).
 */
async function recordPasswordChanged(tx: Db, userId: number, how: 'change' | 'reset', signedOut: number): Promise<void> {
  const accounts = await repo.membershipsOfUser(tx, userId);
  await record(
    tx,
    ...accounts.map((account) => ({
      account_id: account.id,
      type: 'password.changed',
      source_agent: 'api' as const,
      actor_id: userId,
      object_type: 'user',
      object_id: userId,
      payload: { how, sessions_signed_out: signedOut },
    })),
  );
}

const TOO_COMMON = 'This password is too common; choose another.';

export function checkPasswordPolicy(password: string, field = 'password'): void {
  if (COMMON_PASSWORDS.has(password.toLowerCase())) throw fieldError(field, TOO_COMMON);
}

/** The password policy as a body rule, so a route reports it with the schema's errors (`config.bodyRules`). */
export const uncommonPassword =
  (field: string): BodyRules =>
  (body) => {
    const value = body[field];
    return typeof value === 'string' && COMMON_PASSWORDS.has(value.toLowerCase()) ? { [field]: [TOO_COMMON] } : {};
  };

/** A text field that must hold more than spaces (the schema's minLength counts spaces). */
export const notBlank =
  (field: string): BodyRules =>
  (body) => {
    const value = body[field];
    return typeof value === 'string' && value.length > 0 && !value.trim() ? { [field]: ['This field may not be blank.'] } : {};
  };

export function presentUser(user: repo.UserRow) {
  const { password_hash: _secret, last_account_id: _last, ...visible } = user;
  return visible;
}

export function presentAccount(account: repo.AccountRow) {
  const { billing_email: _email, ...visible } = account;
  return visible;
}

/** What registration needs from billing: the plan a new account starts on, and its first credits (billing owns both). */
export interface RegistrationBilling {
  freePlan(tx: Db): Promise<{ id: number }>;
  startPlan(tx: Db, accountId: number, plan: Awaited<ReturnType<RegistrationBilling['freePlan']>>): Promise<void>;
  /** The caps of a plan (sites, members, keywords), which auth applies and passes on. */
  planLimits(tx: Db, planId: number): Promise<PlanLimits | undefined>;
}

export interface PlanLimits {
  max_sites: number;
  max_users: number;
  /** null: no cap. */
  max_keywords: number | null;
}

export function createAuthService(deps: {
  db: Db;
  config: Config;
  mailer: Mailer;
  redis: Redis | null;
  log: Logger;
  billing: RegistrationBilling;
  apiKeys: ApiKeyLookup;
}) {
  const { db, config } = deps;
  const credentials = createCredentials(deps);

  /** The account's plan caps, with the account's row locked for the rest of the transaction. */
  async function lockPlanLimits(tx: Db, accountId: number): Promise<PlanLimits | undefined> {
    const planId = await repo.lockAccountPlanId(tx, accountId);
    return planId === undefined ? undefined : deps.billing.planLimits(tx, planId);
  }

  async function uniqueAccountSlug(tx: Db, name: string): Promise<string> {
    const base = slugify(name, { lower: true, strict: true }).slice(0, 200) || 'account';
    if (!(await repo.accountSlugTaken(tx, base))) return base;
    return `${base}-${randomToken(4)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')}`;
  }

  /** Issues an access token and a refresh token for a session (a new one unless given). */
  async function issueTokens(
    tx: Db,
    user: repo.UserRow,
    accountId: number | null,
    client: Client,
    options: { session?: repo.SessionRow; cookie?: boolean } = {},
  ) {
    const refresh = randomToken(32);
    const refreshExpires = new Date(Date.now() + config.refreshTokenTtlSeconds * 1000);
    const cookieToken = options.cookie ? randomToken(32) : null;
    const session =
      options.session ??
      (await repo.insertSession(tx, {
        user_id: user.id,
        account_id: accountId,
        cookie_hash: cookieToken ? sha256(cookieToken) : null,
        user_agent: client.userAgent,
        ip: client.ip,
        expires_at: refreshExpires,
        last_used_at: new Date(),
      }));
    await repo.insertRefreshToken(tx, session.id, sha256(refresh), refreshExpires);
    const access = await signAccessToken(
      config.secretKey,
      { userId: user.id, accountId, sessionId: session.id },
      config.accessTokenTtlSeconds,
    );
    const account = accountId === null ? null : await repo.accountById(tx, accountId);
    return {
      payload: {
        access: access.token,
        refresh,
        access_expires_at: access.expiresAt,
        user: presentUser(user),
        account: account ? presentAccount(account) : null,
        ...(cookieToken ? { session: true } : {}),
      },
      cookie: cookieToken ? { value: cookieToken, expires: refreshExpires } : null,
    };
  }

  /** The account a sign-in acts for: the one asked (if a member), else the last used, else the first. */
  async function chooseAccount(tx: Db, user: repo.UserRow, asked: number | undefined): Promise<number | null> {
    const memberships = await repo.membershipsOfUser(tx, user.id);
    if (asked !== undefined) {
      if (!memberships.some((m) => m.id === asked)) throw fieldError('account_id', 'You are not a member of this account.');
      return asked;
    }
    const last = memberships.find((m) => m.id === user.last_account_id);
    return (last ?? memberships[0])?.id ?? null;
  }

  return {
    authenticate: credentials.authenticate,
    credentials,
    /** The members of an account (auth/users/ and account/team/). */
    members: createMembersService({
      db,
      lockPlanLimits,
      hashPassword: credentials.hashPassword,
      forgetUser: (userId) => credentials.forgetUser(userId),
    }),
    lockPlanLimits,
    /** What the account module (invitations, keys, settings) needs of users, accounts and sites. */
    directory: createDirectory(db),

    /** Platform staff, outside accounts (the CLI's create-superuser); an existing user is promoted. */
    async createSuperuser(input: { email: string; password: string }) {
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(input.email)) throw fieldError('email', 'Enter a valid email address.');
      if (input.password.length < 8 || input.password.length > 128) throw fieldError('password', 'Must be 8 to 128 characters.');
      checkPasswordPolicy(input.password);
      const passwordHash = await credentials.hashPassword(input.password);
      return db.transaction(async (tx) => {
        const existing = await repo.userByEmail(tx, input.email);
        if (existing) {
          await repo.updateUser(tx, existing.id, {
            is_staff: true,
            is_superuser: true,
            is_active: true,
            password_hash: passwordHash,
          });
          return { id: existing.id, email: existing.email, created: false };
        }
        const user = await repo.insertUser(tx, {
          email: input.email.trim(),
          password_hash: passwordHash,
          is_staff: true,
          is_superuser: true,
        });
        return { id: user.id, email: user.email, created: true };
      });
    },

    /** A fresh sign-in for a user who just proved who they are another way (an accepted invitation). */
    async signInAs(userId: number, accountId: number, client: Client) {
      const user = await repo.userById(db, userId);
      if (!user?.is_active) throw new AppError('authentication_failed', 'This user is no longer active.');
      const { payload } = await db.transaction((tx) => issueTokens(tx, user, accountId, client));
      return payload;
    },

    async register(
      input: { email: string; password: string; account_name: string; first_name?: string; last_name?: string },
      client: Client,
    ) {
      checkPasswordPolicy(input.password);
      if (!input.account_name.trim()) throw fieldError('account_name', 'This field may not be blank.');
      const passwordHash = await credentials.hashPassword(input.password);
      return db.transaction(async (tx) => {
        if (await repo.userByEmail(tx, input.email)) throw fieldError('email', 'A user with this email already exists.');
        const plan = await deps.billing.freePlan(tx);
        const user = await repo.insertUser(tx, {
          email: input.email.trim(),
          password_hash: passwordHash,
          first_name: input.first_name?.trim() ?? '',
          last_name: input.last_name?.trim() ?? '',
        });
        const account = await repo.insertAccount(tx, {
          name: input.account_name.trim(),
          slug: await uniqueAccountSlug(tx, input.account_name),
          plan_id: plan.id,
          owner_id: user.id,
          billing_email: user.email,
        });
        await repo.insertMembership(tx, { account_id: account.id, user_id: user.id, role: 'owner' });
        await record(tx, {
          account_id: account.id,
          type: 'account.created',
          source_agent: 'api',
          actor_id: user.id,
          object_type: 'account',
          object_id: account.id,
          payload: { name: account.name, slug: account.slug, plan_id: plan.id },
        });
        // The subscription and the plan's first credits, granted through billing's ledger in this transaction.
        await deps.billing.startPlan(tx, account.id, plan);
        const now = new Date();
        await repo.updateUser(tx, user.id, { last_account_id: account.id, last_login_at: now });
        return issueTokens(tx, { ...user, last_login_at: now }, account.id, client);
      });
    },

    async login(input: { email: string; password: string; session?: boolean; account_id?: number }, client: Client) {
      const attempt = await credentials.allowAttempt(client.ip);
      if (!attempt.allowed) {
        throw new AppError('throttled', `Too many sign-in attempts; try again in ${attempt.retryAfter} seconds.`, {
          headers: { 'Retry-After': String(attempt.retryAfter) },
        });
      }
      const user = await credentials.checkPassword(input.email, input.password);
      // One answer for an unknown email and a wrong password, so sign-in does not reveal who has an account.
      if (!user) throw new AppError('authentication_failed', 'Invalid email or password.');
      return db.transaction(async (tx) => {
        const accountId = await chooseAccount(tx, user, input.account_id);
        // The answer shows this sign-in as the last one, as a later read of the user would.
        const now = new Date();
        await repo.updateUser(tx, user.id, { last_login_at: now, ...(accountId ? { last_account_id: accountId } : {}) });
        return issueTokens(tx, { ...user, last_login_at: now }, accountId, client, { cookie: input.session === true });
      });
    },

    /** Rotates: the presented token is spent; presenting a spent one again revokes its whole session. */
    async refresh(input: { refresh: string; account_id?: number }) {
      const token = await repo.refreshTokenByHash(db, sha256(input.refresh));
      if (!token) throw new AppError('authentication_failed', 'Invalid refresh token.');
      const session = await repo.sessionById(db, token.session_id);
      if (!session || session.revoked_at) throw new AppError('authentication_failed', 'This session has ended; sign in again.');
      if (token.used_at || !(await repo.useRefreshToken(db, token.id))) {
        await repo.revokeSession(db, session.user_id, session.id, 'refresh_reuse');
        credentials.forgetSessions([session.id]);
        deps.log.warn({ session_id: session.id }, 'refresh token reused: session revoked');
        throw new AppError(
          'authentication_failed',
          'This refresh token was already used; the session has been revoked for safety.',
        );
      }
      if (token.expires_at <= new Date() || session.expires_at <= new Date()) {
        throw new AppError('authentication_failed', 'The refresh token has expired; sign in again.');
      }
      const user = await repo.userById(db, session.user_id);
      if (!user?.is_active) throw new AppError('authentication_failed', 'This user is no longer active.');
      return db.transaction(async (tx) => {
        const accountId = input.account_id === undefined ? session.account_id : await chooseAccount(tx, user, input.account_id);
        if (accountId !== session.account_id) {
          await repo.setSessionAccount(tx, session.id, accountId);
          await repo.updateUser(tx, user.id, { last_account_id: accountId });
        }
        const { payload } = await issueTokens(
          tx,
          user,
          accountId,
          { ip: session.ip, userAgent: session.user_agent },
          { session },
        );
        return payload;
      });
    },

    /** Ends the caller's session and/or the one the refresh token belongs to (holding it proves ownership). */
    async logout(ctx: RequestContext | null, refresh: string | undefined) {
      const sessionIds: number[] = [];
      if (ctx?.sessionId) sessionIds.push(ctx.sessionId);
      if (refresh) {
        const token = await repo.refreshTokenByHash(db, sha256(refresh));
        if (!token) throw fieldError('refresh', 'Invalid refresh token.');
        sessionIds.push(token.session_id);
      }
      if (sessionIds.length === 0) {
        throw fieldError('refresh', 'Send the refresh token, or sign out with the access token or cookie of a session.');
      }
      await db.transaction(async (tx) => {
        for (const id of sessionIds) {
          const revoked = await repo.revokeSession(tx, null, id, 'logout');
          if (revoked) await recordSessionRevoked(tx, revoked, 'logout');
        }
      });
      credentials.forgetSessions(sessionIds);
    },

    async me(caller: RequestContext | null) {
      const ctx = signedIn(caller);
      const account = ctx.accountId === null ? null : await repo.accountById(db, ctx.accountId);
      const accounts = ctx.user
        ? (await repo.membershipsOfUser(db, ctx.user.id)).map(({ joined_at: _j, ...m }) => m)
        : account
          ? [{ id: account.id, name: account.name, slug: account.slug, role: ctx.role ?? 'viewer' }]
          : [];
      const user = ctx.user ? await repo.userById(db, ctx.user.id) : undefined;
      return {
        user: user ? presentUser(user) : null,
        ...(ctx.apiKey ? { api_key: ctx.apiKey } : {}),
        account: account ? presentAccount(account) : null,
        role: ctx.role,
        site_ids: ctx.siteIds,
        accounts,
      };
    },

    async sessions(ctx: RequestContext | null) {
      const userId = requireUser(ctx);
      const rows = await repo.activeSessionsOfUser(db, userId);
      return rows.map((s) => ({
        id: s.id,
        account_id: s.account_id,
        user_agent: s.user_agent,
        ip: s.ip,
        created_at: s.created_at,
        last_used_at: s.last_used_at,
        expires_at: s.expires_at,
        current: s.id === ctx?.sessionId,
      }));
    },

    async revokeSession(ctx: RequestContext | null, sessionId: number) {
      const userId = requireUser(ctx);
      await db.transaction(async (tx) => {
        const revoked = await repo.revokeSession(tx, userId, sessionId, 'revoked');
        if (!revoked) throw notFound('Session');
        await recordSessionRevoked(tx, revoked, 'revoked');
      });
      credentials.forgetSessions([sessionId]);
    },

    async changePassword(ctx: RequestContext | null, input: { old_password: string; new_password: string }) {
      const userId = requireUser(ctx);
      const user = await repo.userById(db, userId);
      if (!user || !(await credentials.checkPassword(user.email, input.old_password))) {
        throw fieldError('old_password', 'The current password is not correct.');
      }
      if (input.old_password === input.new_password)
        throw fieldError('new_password', 'Choose a password different from the current one.');
      checkPasswordPolicy(input.new_password, 'new_password');
      const passwordHash = await credentials.hashPassword(input.new_password);
      const signedOut = await db.transaction(async (tx) => {
        await repo.updateUser(tx, userId, { password_hash: passwordHash });
        // A reset mailed before the change would undo it.
        await repo.retirePasswordResets(tx, userId);
        // Everyone else signed in as this user is signed out; the caller's own session carries on.
        const ids = await repo.revokeSessionsOfUser(tx, userId, 'password_changed', ctx?.sessionId ?? null);
        await recordPasswordChanged(tx, userId, 'change', ids.length);
        return ids;
      });
      credentials.forgetSessions(signedOut);
    },

    /** Always answers the same, whether or not the email belongs to someone. */
    async requestPasswordReset(email: string, baseUrl: string) {
      const user = await repo.userByEmail(db, email);
      if (!user?.is_active) return;
      const token = randomToken(32);
      // Only the newest mail works: an older token, maybe read by someone else, is retired with its issue.
      await db.transaction(async (tx) => {
        await repo.retirePasswordResets(tx, user.id);
        await repo.insertPasswordReset(tx, user.id, sha256(token), new Date(Date.now() + RESET_TTL_MS));
      });
      await deps.mailer.send({
        to: user.email,
        subject: 'Reset your password',
        text:
          'Someone asked to reset the password of your account. If it was you, send this token with a new password to\n' +
          `POST ${baseUrl}/api/v1/auth/password-reset/confirm/  {"token": "${token}", "new_password": "..."}\n` +
          'within one hour. If it was not you, ignore this message.',
      });
    },

    async confirmPasswordReset(input: { token: string; new_password: string }) {
      checkPasswordPolicy(input.new_password, 'new_password');
      const passwordHash = await credentials.hashPassword(input.new_password);
      const signedOut = await db.transaction(async (tx) => {
        const id = await repo.usePasswordReset(tx, sha256(input.token));
        if (id === null) throw validationError({ token: ['This reset token is invalid, used or expired.'] });
        await repo.updateUser(tx, id, { password_hash: passwordHash });
        await repo.retirePasswordResets(tx, id);
        const ids = await repo.revokeSessionsOfUser(tx, id, 'password_reset', null);
        await recordPasswordChanged(tx, id, 'reset', ids.length);
        return ids;
      });
      credentials.forgetSessions(signedOut);
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;

/** Routes with `access: 'authenticated'` have a caller by the time they run; this says so to the compiler. */
function signedIn(ctx: RequestContext | null): RequestContext {
  if (!ctx) throw new AppError('not_authenticated', 'Authentication credentials were not provided.');
  return ctx;
}

function requireUser(ctx: RequestContext | null): number {
  const { user } = signedIn(ctx);
  if (!user) throw new AppError('permission_denied', 'This needs a signed-in user, not an API key.');
  return user.id;
}

/**
 * Users, accounts and sites as the account module sees them: narrow reads and writes that take the caller's
 * transaction, so an invitation's checks and its new user commit together.
 */
function createDirectory(db: Db) {
  return {
    userByEmail: (tx: Db, email: string) => repo.userByEmail(tx, email),
    createUser: (
      tx: Db,
      values: { email: string; password_hash: string; first_name: string; last_name: string; last_account_id?: number },
    ) => repo.insertUser(tx, values),
    async accountName(accountId: number): Promise<string | null> {
      return (await repo.accountById(db, accountId))?.name ?? null;
    },
    async isSiteOfAccount(tx: Db, accountId: number, siteId: number): Promise<boolean> {
      return (await repo.siteOfAccount(tx, accountId, siteId)) !== undefined;
    },
    settings: (accountId: number) => membersRepo.accountSettings(db, accountId),
    updateSettings: (tx: Db, accountId: number, values: { name?: string; timezone?: string; billing_email?: string | null }) =>
      membersRepo.updateAccountSettings(tx, accountId, values),
  };
}
