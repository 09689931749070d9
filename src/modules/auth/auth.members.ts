import type { Db } from '../../core/db.js';
import { AppError, fieldError, notFound, permissionDenied } from '../../core/errors.js';
import { byCaller, record } from '../../core/events.js';
import type { RequestContext, Role } from '../../core/tenancy.js';
import * as members from './auth.members.repository.js';
import * as repo from './auth.repository.js';
import { checkPasswordPolicy, type PlanLimits } from './auth.service.js';

/**
 * The members of an account, one service behind both auth/users/ and account/team/. Rules: admins manage
 * members but only owners touch owners (or make one); the last owner can be neither removed nor demoted;
 * `site_ids` must be the account's own sites; the plan caps members. Invitations (the account module) join
 * people through `join`, under the same checks.
 */

type Ctx = RequestContext & { accountId: number };

export function createMembersService(deps: {
  db: Db;
  lockPlanLimits: (tx: Db, accountId: number) => Promise<PlanLimits | undefined>;
  /** The stored hash of a new password (auth's credentials, at the configured cost). */
  hashPassword: (password: string) => Promise<string>;
  forgetUser: (userId: number) => void;
}) {
  const { db } = deps;

  async function checkSiteIds(tx: Db, accountId: number, siteIds: number[] | undefined, field = 'site_ids'): Promise<void> {
    if (!siteIds?.length) return;
    const known = new Set(await repo.sitesOfAccount(tx, accountId, siteIds));
    const unknown = siteIds.filter((id) => !known.has(id));
    if (unknown.length > 0) throw fieldError(field, `Not sites of this account: ${unknown.join(', ')}.`);
  }

  function checkRoleChange(ctx: Ctx, target: { role: Role } | null, newRole: Role | undefined): void {
    if (ctx.role === 'owner') return;
    if (target?.role === 'owner') throw permissionDenied('Only an owner can change or remove an owner.');
    if (newRole === 'owner') throw permissionDenied('Only an owner can make someone an owner.');
  }

  async function checkMemberLimit(tx: Db, accountId: number): Promise<void> {
    const plan = await deps.lockPlanLimits(tx, accountId);
    const current = await members.countMembers(tx, accountId);
    if (plan && current >= plan.max_users) {
      throw new AppError('plan_limit_reached', `Your plan allows ${plan.max_users} members; upgrade to add more.`, {
        details: { limit: plan.max_users, current },
      });
    }
  }

  return {
    checkSiteIds,
    checkRoleChange,
    checkMemberLimit,

    /** Whether the user is already a member of the account. */
    async isMember(tx: Db, accountId: number, userId: number): Promise<boolean> {
      return (await members.member(tx, accountId, userId)) !== undefined;
    },

    /** Adds the user to the account with a role (an accepted invitation), and makes it their current account. */
    async join(tx: Db, accountId: number, userId: number, membership: { role: Role; site_ids: number[] }): Promise<void> {
      await repo.insertMembership(tx, { account_id: accountId, user_id: userId, ...membership });
      await repo.updateUser(tx, userId, { last_account_id: accountId });
    },

    listMembers: (ctx: Ctx) => members.members(db, ctx.accountId),

    async getMember(ctx: Ctx, userId: number) {
      const row = await members.member(db, ctx.accountId, userId);
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
      const passwordHash = await deps.hashPassword(input.password);
      return db.transaction(async (tx) => {
        if (await repo.userByEmail(tx, input.email)) {
          throw fieldError('email', 'A user with this email already exists; invite them to join instead.');
        }
        await checkSiteIds(tx, ctx.accountId, input.site_ids);
        await checkMemberLimit(tx, ctx.accountId);
        const user = await repo.insertUser(tx, {
          email: input.email.trim(),
          password_hash: passwordHash,
          first_name: input.first_name?.trim() ?? '',
          last_name: input.last_name?.trim() ?? '',
          last_account_id: ctx.accountId,
        });
        await repo.insertMembership(tx, {
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
        return (await members.member(tx, ctx.accountId, user.id)) as members.MemberRow;
      });
    },

    async updateMember(
      ctx: Ctx,
      userId: number,
      input: { role?: Role; site_ids?: number[]; first_name?: string; last_name?: string },
    ) {
      const row = await db.transaction(async (tx) => {
        const current = await members.member(tx, ctx.accountId, userId, true);
        if (!current) throw notFound('Member');
        checkRoleChange(ctx, current, input.role);
        if (current.role === 'owner' && input.role !== undefined && input.role !== 'owner') {
          const owners = await members.ownerIds(tx, ctx.accountId);
          if (owners.length <= 1)
            throw new AppError('conflict', 'The last owner cannot be demoted; make someone else an owner first.', {
              details: { current_role: 'owner' },
            });
        }
        await checkSiteIds(tx, ctx.accountId, input.site_ids);
        const { first_name, last_name, ...membership } = input;
        if (Object.keys(membership).length > 0) await members.updateMembership(tx, ctx.accountId, userId, membership);
        // Names belong to the person; only the person or an admin of an account they are in may change them.
        await members.updateUserNames(tx, userId, {
          ...(first_name !== undefined ? { first_name: first_name.trim() } : {}),
          ...(last_name !== undefined ? { last_name: last_name.trim() } : {}),
        });
        const updated = (await members.member(tx, ctx.accountId, userId)) as members.MemberRow;
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
      deps.forgetUser(userId);
      return row;
    },

    async removeMember(ctx: Ctx, userId: number) {
      await db.transaction(async (tx) => {
        const current = await members.member(tx, ctx.accountId, userId, true);
        if (!current) throw notFound('Member');
        checkRoleChange(ctx, current, undefined);
        if (current.role === 'owner') {
          const owners = await members.ownerIds(tx, ctx.accountId);
          if (owners.length <= 1)
            throw new AppError('conflict', 'The last owner cannot be removed; make someone else an owner first.', {
              details: { current_role: 'owner' },
            });
        }
        await members.deleteMembership(tx, ctx.accountId, userId);
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
      deps.forgetUser(userId);
    },
  };
}
export type MembersService = ReturnType<typeof createMembersService>;
