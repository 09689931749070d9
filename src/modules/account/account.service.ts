import { generateApiKey, randomToken, sha256 } from '../../core/auth.js';
import type { Db } from '../../core/db.js';
import { AppError, fieldError, notFound, permissionDenied, validationError } from '../../core/errors.js';
import { byCaller, record, settingsUpdated } from '../../core/events.js';
import type { Mailer } from '../../core/mailer.js';
import type { ApiKeyScope, RequestContext, Role } from '../../core/tenancy.js';
import { type ApiKeyLookup, type AuthService, checkPasswordPolicy } from '../auth/auth.service.js';
import * as repo from './account.repository.js';

/**
 * Invitations, API keys and settings. The members themselves are the auth module's members service (the same
 * rules behind auth/users/ and account/team/); users, accounts and sites are reached through auth's directory.
 */

type Ctx = RequestContext & { accountId: number };
const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export function createAccountService(deps: {
  db: Db;
  auth: Pick<AuthService, 'members' | 'directory' | 'credentials' | 'signInAs'>;
  mailer: Mailer;
}) {
  const { db, auth } = deps;
  const { members, directory } = auth;

  return {
    async invite(ctx: Ctx, input: { email: string; role: Role; site_ids?: number[] }, baseUrl: string) {
      members.checkRoleChange(ctx, null, input.role);
      const token = randomToken(32);
      const invitation = await db.transaction(async (tx) => {
        const existing = await directory.userByEmail(tx, input.email);
        if (existing && (await members.isMember(tx, ctx.accountId, existing.id))) {
          throw fieldError('email', 'This person is already a member of the account.');
        }
        await members.checkSiteIds(tx, ctx.accountId, input.site_ids);
        await members.checkMemberLimit(tx, ctx.accountId);
        const created = await repo.insertInvitation(tx, {
          account_id: ctx.accountId,
          email: input.email.trim(),
          role: input.role,
          site_ids: input.site_ids ?? [],
          token_hash: sha256(token),
          invited_by: ctx.user?.id ?? null,
          expires_at: new Date(Date.now() + INVITE_TTL_MS),
        });
        // The member does not exist yet: the event names the invitation (never its token).
        await record(
          tx,
          byCaller(ctx, {
            type: 'member.invited',
            object_type: 'member',
            object_id: null,
            payload: { invitation_id: created.id, email: created.email, role: created.role, site_ids: created.site_ids },
          }),
        );
        return created;
      });
      const acceptUrl = `${baseUrl}/api/v1/account/team/accept/?token=${token}`;
      const accountName = (await directory.accountName(ctx.accountId)) ?? 'a team';
      await deps.mailer.send({
        to: invitation.email,
        subject: `You are invited to join ${accountName}`,
        text:
          `You have been invited to join ${accountName} as ${invitation.role}.\n` +
          `See the invitation: ${acceptUrl}\n` +
          `Accept within 7 days: POST ${baseUrl}/api/v1/account/team/accept/ with {"token": "${token}"} ` +
          '(and a password and your name if you have no account yet).',
      });
      const { token_hash: _hash, ...visible } = invitation;
      return { ...visible, accept_url: acceptUrl };
    },

    /**
     * What an invitation link opens (`GET team/accept/?token=`): who is invited where, and whether accepting needs
     * a password (a new person) or a sign-in (an existing user). Reading it changes nothing, so a mail scanner
     * following the link cannot accept for the person.
     */
    async previewInvitation(token: string) {
      const invitation = await repo.liveInvitation(db, sha256(token));
      if (!invitation) throw notFound('Invitation');
      const [accountName, user] = await Promise.all([
        directory.accountName(invitation.account_id),
        directory.userByEmail(db, invitation.email),
      ]);
      return {
        account_name: accountName ?? '',
        email: invitation.email,
        role: invitation.role,
        expires_at: invitation.expires_at,
        existing_user: Boolean(user),
      };
    },

    /**
     * Joins the invitation's account. A new person sets a password and becomes a user; an existing user must be
     * signed in as the invited email and just joins. Answers a sign-in for the joined account.
     */
    async accept(
      ctx: RequestContext | null,
      input: { token: string; password?: string; first_name?: string; last_name?: string },
      client: { ip: string; userAgent: string },
    ) {
      const joined = await db.transaction(async (tx) => {
        const invitation = await repo.claimInvitation(tx, sha256(input.token));
        if (!invitation) throw fieldError('token', 'This invitation is invalid, used or expired.');
        let user = await directory.userByEmail(tx, invitation.email);
        if (user) {
          if (ctx?.user?.id !== user.id) {
            throw new AppError('not_authenticated', 'Sign in as the invited user to accept this invitation.', {
              headers: { 'WWW-Authenticate': 'Bearer realm="api"' },
            });
          }
        } else {
          if (!input.password) throw fieldError('password', 'This field is required to create your user.');
          if (input.password.length < 8 || input.password.length > 128)
            throw fieldError('password', 'Must be 8 to 128 characters.');
          checkPasswordPolicy(input.password);
          user = await directory.createUser(tx, {
            email: invitation.email,
            password_hash: await auth.credentials.hashPassword(input.password),
            first_name: input.first_name?.trim() ?? '',
            last_name: input.last_name?.trim() ?? '',
          });
        }
        if (await members.isMember(tx, invitation.account_id, user.id))
          throw fieldError('token', 'You are already a member of this account.');
        await members.join(tx, invitation.account_id, user.id, { role: invitation.role, site_ids: invitation.site_ids });
        await record(tx, {
          account_id: invitation.account_id,
          type: 'member.joined',
          source_agent: 'api',
          actor_id: user.id,
          object_type: 'member',
          object_id: user.id,
          payload: { invitation_id: invitation.id, email: invitation.email, role: invitation.role },
        });
        return { userId: user.id, accountId: invitation.account_id };
      });
      auth.credentials.forgetUser(joined.userId);
      return auth.signInAs(joined.userId, joined.accountId, client);
    },

    // -------------------------------------------------------------------------------------------------------
    // API keys

    async createApiKey(
      ctx: Ctx,
      input: { name: string; scopes?: ApiKeyScope[]; site_id?: number | null; expires_at?: string | null },
    ) {
      const expiresAt = input.expires_at ? new Date(input.expires_at) : null;
      if (expiresAt && expiresAt <= new Date()) throw fieldError('expires_at', 'Must be in the future.');
      const scopes = input.scopes ?? ['read', 'write'];
      if (scopes.length === 0) throw fieldError('scopes', 'Give at least one scope.');
      // A key never grants more than its creator has.
      if (scopes.includes('admin') && ctx.role !== 'owner' && ctx.role !== 'admin') {
        throw permissionDenied('Only admins can create keys with the admin scope.');
      }
      return db.transaction(async (tx) => {
        if (input.site_id != null && !(await directory.isSiteOfAccount(tx, ctx.accountId, input.site_id))) {
          throw fieldError('site_id', 'Not a site of this account.');
        }
        const generated = generateApiKey();
        const row = await repo.insertApiKey(tx, {
          account_id: ctx.accountId,
          name: input.name.trim(),
          prefix: generated.prefix,
          key_hash: generated.hash,
          scopes,
          site_id: input.site_id ?? null,
          created_by: ctx.user?.id ?? null,
          expires_at: expiresAt,
        });
        await record(tx, byCaller(ctx, { type: 'api_key.created', ...apiKeyEvent(row) }));
        return { ...presentApiKey(row), key: generated.key };
      });
    },

    async revokeApiKey(ctx: Ctx, id: number) {
      await db.transaction(async (tx) => {
        const key = await repo.liveApiKey(tx, ctx.accountId, id);
        if (!key || !(await repo.revokeApiKey(tx, ctx.accountId, id))) throw notFound('API key');
        await record(tx, byCaller(ctx, { type: 'api_key.revoked', ...apiKeyEvent(key) }));
      });
      auth.credentials.forgetApiKey(id);
    },

    /** Issues a new key with the same name, scopes, site and expiry, and revokes the old one, atomically. */
    async rotateApiKey(ctx: Ctx, id: number) {
      const created = await db.transaction(async (tx) => {
        const old = await repo.liveApiKey(tx, ctx.accountId, id);
        if (!old || !(await repo.revokeApiKey(tx, ctx.accountId, id))) throw notFound('API key');
        const generated = generateApiKey();
        const row = await repo.insertApiKey(tx, {
          account_id: ctx.accountId,
          name: old.name,
          prefix: generated.prefix,
          key_hash: generated.hash,
          scopes: old.scopes,
          site_id: old.site_id,
          created_by: ctx.user?.id ?? old.created_by,
          expires_at: old.expires_at,
        });
        // Named by the old key (the one rotated); the new one's id is in the payload.
        const event = apiKeyEvent(old);
        await record(
          tx,
          byCaller(ctx, {
            type: 'api_key.rotated',
            ...event,
            payload: { ...event.payload, new_api_key_id: row.id, new_prefix: row.prefix },
          }),
        );
        return { ...presentApiKey(row), key: generated.key };
      });
      auth.credentials.forgetApiKey(id);
      return created;
    },

    // -------------------------------------------------------------------------------------------------------
    // Settings

    async settings(ctx: Ctx) {
      const row = await directory.settings(ctx.accountId);
      if (!row) throw notFound('Account');
      return row;
    },

    async updateSettings(ctx: Ctx, input: { name?: string; timezone?: string; billing_email?: string | null }) {
      if (input.timezone !== undefined && !isTimeZone(input.timezone)) {
        throw validationError({ timezone: ['Not a known IANA time zone, such as Europe/Paris.'] });
      }
      if (input.name !== undefined && !input.name.trim()) throw fieldError('name', 'This field may not be blank.');
      if (Object.keys(input).length === 0) return this.settings(ctx);
      await db.transaction(async (tx) => {
        await directory.updateSettings(tx, ctx.accountId, { ...input, ...(input.name ? { name: input.name.trim() } : {}) });
        await record(tx, settingsUpdated(ctx, 'account', Object.keys(input)));
      });
      return this.settings(ctx);
    },
  };
}
export type AccountService = ReturnType<typeof createAccountService>;

/** The account's keys as auth's credential check reads them (made before auth's service, which needs it). */
export function createApiKeyLookup(db: Db): ApiKeyLookup {
  return {
    liveByHash: (hash) => repo.liveApiKeyByHash(db, hash),
    touch: (id, at) => repo.touchApiKey(db, id, at),
  };
}

/** What an API key's events say about it: never the key or its hash. */
function apiKeyEvent(row: repo.ApiKeyRow) {
  return {
    object_type: 'api_key',
    object_id: row.id,
    site_id: row.site_id,
    payload: { name: row.name, prefix: row.prefix, scopes: row.scopes, site_id: row.site_id },
  };
}

export function presentApiKey(row: repo.ApiKeyRow) {
  const { key_hash: _hash, revoked_at: _revoked, created_by: _by, ...visible } = row;
  return visible;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
