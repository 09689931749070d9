import { and, eq, inArray } from 'drizzle-orm';
import { generateApiKey, randomToken, sha256 } from '../../core/auth.js';
import type { Db } from '../../core/db.js';
import { AppError, fieldError, notFound, permissionDenied, validationError } from '../../core/errors.js';
import { byCaller, record } from '../../core/events.js';
import type { Mailer } from '../../core/mailer.js';
import type { ApiKeyScope, RequestContext, Role } from '../../core/tenancy.js';
import * as authRepo from '../auth/auth.repository.js';
import { type AuthService, checkPasswordPolicy, hashNewPassword } from '../auth/auth.service.js';
import { auth_sites } from '../auth/auth.tables.js';
import * as repo from './account.repository.js';

/**
 * The team and its keys. Rules: admins manage members but only owners touch owners (or make one); the last
 * owner can be neither removed nor demoted; `site_ids` must be the account's own sites; the plan caps members.
 */

type Ctx = RequestContext & { accountId: number };
const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export function createAccountService(deps: { db: Db; auth: AuthService; mailer: Mailer }) {
  const { db, auth } = deps;

  async function checkSiteIds(tx: Db, accountId: number, siteIds: number[] | undefined, field = 'site_ids'): Promise<void> {
    if (!siteIds?.length) return;
    const found = await tx
      .select({ id: auth_sites.id })
      .from(auth_sites)
      .where(and(eq(auth_sites.account_id, accountId), inArray(auth_sites.id, siteIds)));
    const known = new Set(found.map((s) => s.id));
    const unknown = siteIds.filter((id) => !known.has(id));
    if (unknown.length > 0) throw fieldError(field, `Not sites of this account: ${unknown.join(', ')}.`);
  }

  function checkRoleChange(ctx: Ctx, target: { role: Role } | null, newRole: Role | undefined): void {
    if (ctx.role === 'owner') return;
    if (target?.role === 'owner') throw permissionDenied('Only an owner can change or remove an owner.');
    if (newRole === 'owner') throw permissionDenied('Only an owner can make someone an owner.');
  }

  async function checkMemberLimit(tx: Db, accountId: number): Promise<void> {
    const plan = await authRepo.lockAccountPlan(tx, accountId);
    const current = await repo.countMembers(tx, accountId);
    if (plan && current >= plan.max_users) {
      throw new AppError('plan_limit_reached', `Your plan allows ${plan.max_users} members; upgrade to add more.`, {
        details: { limit: plan.max_users, current },
      });
    }
  }

  return {
    listMembers: (ctx: Ctx) => repo.members(db, ctx.accountId),

    async getMember(ctx: Ctx, userId: number) {
      const row = await repo.member(db, ctx.accountId, userId);
      if (!row) throw notFound('Member');
      return row;
    },

    /** An admin adds a person directly, with a password (an existing user is invited instead). */
    async createMember(
      ctx: Ctx,
      input: { email: string; password: string; role: Role; site_ids?: number[]; first_name?: string; last_name?: string },
    ) {
      checkRoleChange(ctx, null, input.role);
      checkPasswordPolicy(input.password);
      const passwordHash = await hashNewPassword(input.password);
      return db.transaction(async (tx) => {
        if (await authRepo.userByEmail(tx, input.email)) {
          throw fieldError('email', 'A user with this email already exists; invite them to join instead.');
        }
        await checkSiteIds(tx, ctx.accountId, input.site_ids);
        await checkMemberLimit(tx, ctx.accountId);
        const user = await authRepo.insertUser(tx, {
          email: input.email.trim(),
          password_hash: passwordHash,
          first_name: input.first_name?.trim() ?? '',
          last_name: input.last_name?.trim() ?? '',
          last_account_id: ctx.accountId,
        });
        await authRepo.insertMembership(tx, {
          account_id: ctx.accountId,
          user_id: user.id,
          role: input.role,
          site_ids: input.site_ids ?? [],
        });
        await record(
          tx,
          byCaller(ctx, {
            type: 'member.created',
            object_type: 'member',
            object_id: user.id,
            payload: { email: user.email, role: input.role, site_ids: input.site_ids ?? [] },
          }),
        );
        return (await repo.member(tx, ctx.accountId, user.id)) as repo.MemberRow;
      });
    },

    async updateMember(
      ctx: Ctx,
      userId: number,
      input: { role?: Role; site_ids?: number[]; first_name?: string; last_name?: string },
    ) {
      const row = await db.transaction(async (tx) => {
        const current = await repo.member(tx, ctx.accountId, userId, true);
        if (!current) throw notFound('Member');
        checkRoleChange(ctx, current, input.role);
        if (current.role === 'owner' && input.role !== undefined && input.role !== 'owner') {
          const owners = await repo.ownerIds(tx, ctx.accountId);
          if (owners.length <= 1)
            throw new AppError('conflict', 'The last owner cannot be demoted; make someone else an owner first.', {
              details: { current_role: 'owner' },
            });
        }
        await checkSiteIds(tx, ctx.accountId, input.site_ids);
        const { first_name, last_name, ...membership } = input;
        if (Object.keys(membership).length > 0) await repo.updateMembership(tx, ctx.accountId, userId, membership);
        // Names belong to the person; only the person or an admin of an account they are in may change them.
        await repo.updateUserNames(tx, userId, {
          ...(first_name !== undefined ? { first_name: first_name.trim() } : {}),
          ...(last_name !== undefined ? { last_name: last_name.trim() } : {}),
        });
        const updated = (await repo.member(tx, ctx.accountId, userId)) as repo.MemberRow;
        // A role change is its own type (people and agents watch for it); any other change is `member.updated`.
        const roleChanged = updated.role !== current.role;
        // An empty PATCH changes nothing, so it records nothing.
        if (Object.keys(input).length > 0) {
          await record(
            tx,
            byCaller(ctx, {
              type: roleChanged ? 'member.role_changed' : 'member.updated',
              object_type: 'member',
              object_id: userId,
              payload: {
                fields: Object.keys(input).sort(),
                role: updated.role,
                ...(roleChanged ? { previous_role: current.role } : {}),
                site_ids: updated.site_ids,
              },
            }),
          );
        }
        return updated;
      });
      auth.credentials.forgetUser(userId);
      return row;
    },

    async removeMember(ctx: Ctx, userId: number) {
      await db.transaction(async (tx) => {
        const current = await repo.member(tx, ctx.accountId, userId, true);
        if (!current) throw notFound('Member');
        checkRoleChange(ctx, current, undefined);
        if (current.role === 'owner') {
          const owners = await repo.ownerIds(tx, ctx.accountId);
          if (owners.length <= 1)
            throw new AppError('conflict', 'The last owner cannot be removed; make someone else an owner first.', {
              details: { current_role: 'owner' },
            });
        }
        await repo.deleteMembership(tx, ctx.accountId, userId);
        await record(
          tx,
          byCaller(ctx, {
            type: 'member.removed',
            object_type: 'member',
            object_id: userId,
            payload: { email: current.email, role: current.role },
          }),
        );
      });
      auth.credentials.forgetUser(userId);
    },

    async invite(ctx: Ctx, input: { email: string; role: Role; site_ids?: number[] }, baseUrl: string) {
      checkRoleChange(ctx, null, input.role);
      const token = randomToken(32);
      const invitation = await db.transaction(async (tx) => {
        const existing = await authRepo.userByEmail(tx, input.email);
        if (existing && (await repo.member(tx, ctx.accountId, existing.id))) {
          throw fieldError('email', 'This person is already a member of the account.');
        }
        await checkSiteIds(tx, ctx.accountId, input.site_ids);
        await checkMemberLimit(tx, ctx.accountId);
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
      const account = await authRepo.accountById(db, ctx.accountId);
      await deps.mailer.send({
        to: invitation.email,
        subject: `You are invited to join ${account?.name ?? 'a team'}`,
        text:
          `You have been invited to join ${account?.name ?? 'a team'} as ${invitation.role}.\n` +
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
      const [account, user] = await Promise.all([
        authRepo.accountById(db, invitation.account_id),
        authRepo.userByEmail(db, invitation.email),
      ]);
      return {
        account_name: account?.name ?? '',
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
        let user = await authRepo.userByEmail(tx, invitation.email);
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
          user = await authRepo.insertUser(tx, {
            email: invitation.email,
            password_hash: await hashNewPassword(input.password),
            first_name: input.first_name?.trim() ?? '',
            last_name: input.last_name?.trim() ?? '',
          });
        }
        if (await repo.member(tx, invitation.account_id, user.id))
          throw fieldError('token', 'You are already a member of this account.');
        await authRepo.insertMembership(tx, {
          account_id: invitation.account_id,
          user_id: user.id,
          role: invitation.role,
          site_ids: invitation.site_ids,
        });
        await authRepo.updateUser(tx, user.id, { last_account_id: invitation.account_id });
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
        if (input.site_id != null && !(await authRepo.siteOfAccount(tx, ctx.accountId, input.site_id))) {
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
      const row = await repo.accountSettings(db, ctx.accountId);
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
        await repo.updateAccountSettings(tx, ctx.accountId, { ...input, ...(input.name ? { name: input.name.trim() } : {}) });
        await record(
          tx,
          byCaller(ctx, {
            type: 'settings.updated',
            object_type: 'settings',
            object_id: ctx.accountId,
            payload: { section: 'account', fields: Object.keys(input).sort() },
          }),
        );
      });
      return this.settings(ctx);
    },
  };
}
export type AccountService = ReturnType<typeof createAccountService>;

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
