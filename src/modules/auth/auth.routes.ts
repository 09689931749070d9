import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { clientOf, SESSION_COOKIE } from '../../core/auth.js';
import type { Config } from '../../core/config.js';
import type { Db } from '../../core/db.js';
import { bodyRules, Envelope, noContent, ok, originOf, PageEnvelope, sendPage } from '../../core/envelope.js';
import { pageOfRows, pagingQuerySchema } from '../../core/lists.js';
import { IdParams, registerResource, sendDetail } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import {
  ChangePasswordBody,
  CreateMemberBody,
  IndustrySchema,
  LoginBody,
  LogoutBody,
  MemberSchema,
  MeSchema,
  PasswordResetBody,
  PasswordResetConfirmBody,
  RefreshBody,
  RegisterBody,
  SectorBody,
  SectorSchema,
  SessionSchema,
  SiteBody,
  SiteSchema,
  TokenPairSchema,
  UpdateMemberBody,
} from './auth.schemas.js';
import { type AuthService, notBlank, uncommonPassword } from './auth.service.js';
import { createSiteHooks, sectorHooks, siteAccess } from './auth.sites.js';
import { auth_industries, auth_sectors, auth_sites } from './auth.tables.js';

interface Deps {
  db: Db;
  config: Config;
  auth: AuthService;
}

const tags = ['auth'];
const Done = Envelope(Type.Object({ detail: Type.String() }));
const publicAuth = { access: 'public', throttle: 'auth', idempotency: false } as const;

/** The auth module's routes: signing in and sessions, the account's members, and sites, sectors, industries. */
export async function authRoutes(fastify: FastifyInstance, deps: Deps) {
  signInRoutes(fastify, deps);
  memberRoutes(fastify, deps);
  siteRoutes(fastify, deps);
}

/** Register, login, refresh, logout, me, sessions, password change and reset. */
function signInRoutes(fastify: FastifyInstance, deps: Deps) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { auth, config } = deps;

  function setSessionCookie(reply: FastifyReply, cookie: { value: string; expires: Date } | null) {
    if (!cookie) return;
    reply.setCookie(SESSION_COOKIE, cookie.value, {
      httpOnly: true,
      sameSite: 'lax',
      secure: config.env === 'production',
      path: '/',
      expires: cookie.expires,
    });
  }

  app.post(
    '/api/v1/auth/register',
    {
      schema: {
        tags,
        summary: 'Create an account, its owner and a session',
        body: RegisterBody,
        response: { 201: Envelope(TokenPairSchema) },
      },
      config: { ...publicAuth, bodyRules: bodyRules(uncommonPassword('password'), notBlank('account_name')) },
    },
    async (request, reply) => {
      const { payload } = await auth.register(request.body, clientOf(request));
      return reply.code(201).send(ok(request, payload));
    },
  );

  app.post(
    '/api/v1/auth/login',
    {
      schema: {
        tags,
        summary: 'Sign in with email and password',
        description: '`session: true` also sets the `sessionid` cookie. `account_id` picks one of your accounts.',
        body: LoginBody,
        response: { 200: Envelope(TokenPairSchema) },
      },
      config: publicAuth,
    },
    async (request, reply) => {
      const { payload, cookie } = await auth.login(request.body, clientOf(request));
      setSessionCookie(reply, cookie);
      return ok(request, payload);
    },
  );

  app.post(
    '/api/v1/auth/refresh',
    {
      schema: {
        tags,
        summary: 'Trade a refresh token for new tokens',
        description: 'Refresh tokens are single use; presenting a used one revokes its whole session.',
        body: RefreshBody,
        response: { 200: Envelope(TokenPairSchema) },
      },
      config: publicAuth,
    },
    async (request) => ok(request, await auth.refresh(request.body)),
  );

  app.post(
    '/api/v1/auth/logout',
    {
      schema: {
        tags,
        summary: 'Sign out: revoke the session, its refresh tokens and its access tokens',
        body: LogoutBody,
        response: { 200: Done },
      },
      config: publicAuth,
    },
    async (request, reply) => {
      await auth.logout(request.ctx, request.body?.refresh);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return ok(request, { detail: 'Signed out.' });
    },
  );

  app.get(
    '/api/v1/auth/me',
    {
      schema: { tags, summary: 'Who is calling, for which account, with which role', response: { 200: Envelope(MeSchema) } },
      config: { access: 'authenticated' },
    },
    async (request) => ok(request, await auth.me(request.ctx)),
  );

  app.get(
    '/api/v1/auth/sessions',
    {
      schema: {
        tags,
        summary: 'Your signed-in sessions',
        querystring: pagingQuerySchema(),
        response: { 200: PageEnvelope(SessionSchema) },
      },
      config: { access: 'authenticated' },
    },
    async (request) => {
      const sessions = await auth.sessions(request.ctx);
      return sendPage(request, pageOfRows(sessions, request.query));
    },
  );

  app.delete(
    '/api/v1/auth/sessions/:id',
    {
      schema: { tags, summary: 'Revoke one of your sessions', params: IdParams, response: { 204: Type.Null() } },
      config: { access: 'authenticated' },
    },
    async (request, reply) => {
      await auth.revokeSession(request.ctx, request.params.id);
      return noContent(reply);
    },
  );

  app.post(
    '/api/v1/auth/change-password',
    {
      schema: {
        tags,
        summary: 'Change your password (signs out your other sessions)',
        body: ChangePasswordBody,
        response: { 200: Done },
      },
      config: { access: 'authenticated', throttle: 'auth', bodyRules: uncommonPassword('new_password') },
    },
    async (request) => {
      await auth.changePassword(request.ctx, request.body);
      return ok(request, { detail: 'Password changed.' });
    },
  );

  app.post(
    '/api/v1/auth/password-reset',
    {
      schema: {
        tags,
        summary: 'Mail a password-reset token',
        description: 'Always answers 200, whether or not the email belongs to a user.',
        body: PasswordResetBody,
        response: { 200: Done },
      },
      config: publicAuth,
    },
    async (request) => {
      await auth.requestPasswordReset(request.body.email, originOf(request, config.publicUrl));
      return ok(request, { detail: 'If this email belongs to a user, a reset token is on its way.' });
    },
  );

  app.post(
    '/api/v1/auth/password-reset/confirm',
    {
      schema: { tags, summary: 'Set a new password with a reset token', body: PasswordResetConfirmBody, response: { 200: Done } },
      config: { ...publicAuth, bodyRules: uncommonPassword('new_password') },
    },
    async (request) => {
      await auth.confirmPasswordReset(request.body);
      return ok(request, { detail: 'Password changed; sign in with the new one.' });
    },
  );
}

/** Members of the caller's account: the same people, service and schema as account/team/. */
function memberRoutes(fastify: FastifyInstance, deps: Deps) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { members } = deps.auth;

  const UserIdParams = Type.Object({ id: IdParams.properties.id });

  app.get(
    '/api/v1/auth/users',
    {
      schema: {
        tags,
        summary: "List the account's members",
        querystring: pagingQuerySchema(),
        response: { 200: PageEnvelope(MemberSchema) },
      },
      config: { access: 'read' },
    },
    async (request) => {
      const rows = await members.listMembers(accountContext(request));
      return sendPage(request, pageOfRows(rows, request.query));
    },
  );
  app.post(
    '/api/v1/auth/users',
    {
      schema: {
        tags,
        summary: 'Add a member with a password',
        body: CreateMemberBody,
        response: { 201: Envelope(MemberSchema) },
      },
      config: { access: 'admin', bodyRules: uncommonPassword('password') },
    },
    async (request, reply) => {
      const member = await members.createMember(accountContext(request), request.body);
      return reply.code(201).header('Location', `/api/v1/auth/users/${member.id}/`).send(ok(request, member));
    },
  );
  app.get(
    '/api/v1/auth/users/:id',
    {
      schema: { tags, summary: 'Get a member', params: UserIdParams, response: { 200: Envelope(MemberSchema) } },
      config: { access: 'read' },
    },
    async (request, reply) => sendDetail(request, reply, await members.getMember(accountContext(request), request.params.id)),
  );
  app.patch(
    '/api/v1/auth/users/:id',
    {
      schema: {
        tags,
        summary: "Change a member's role, sites or name",
        params: UserIdParams,
        body: UpdateMemberBody,
        response: { 200: Envelope(MemberSchema) },
      },
      config: { access: 'admin' },
    },
    async (request) => ok(request, await members.updateMember(accountContext(request), request.params.id, request.body)),
  );
  app.delete(
    '/api/v1/auth/users/:id',
    {
      schema: { tags, summary: 'Remove a member from the account', params: UserIdParams, response: { 204: Type.Null() } },
      config: { access: 'admin' },
    },
    async (request, reply) => {
      await members.removeMember(accountContext(request), request.params.id);
      return noContent(reply);
    },
  );
}

/** Sites, sectors, industries: plain CRUD with their rules in auth.sites.ts. */
function siteRoutes(fastify: FastifyInstance, deps: Deps) {
  registerResource(fastify, deps.db, {
    path: '/api/v1/auth/sites',
    tag: 'auth',
    names: ['site', 'sites'],
    objectType: 'site',
    eventFields: ['name', 'slug'],
    table: auth_sites,
    scope: 'account',
    siteColumn: auth_sites.id,
    item: SiteSchema,
    create: SiteBody,
    update: SiteBody,
    actions: ['list', 'retrieve', 'create', 'update', 'delete'],
    access: { create: 'admin', update: 'admin', delete: 'admin' },
    hooks: createSiteHooks(deps.auth.lockPlanLimits),
    list: {
      filters: {
        is_active: { column: auth_sites.is_active, kind: 'boolean' },
        industry: { column: auth_sites.industry, kind: 'string', in: true },
        slug: { column: auth_sites.slug, kind: 'string', in: true },
      },
      search: [auth_sites.name, auth_sites.url],
      ordering: { name: auth_sites.name, created_at: auth_sites.created_at },
    },
  });

  registerResource(fastify, deps.db, {
    path: '/api/v1/auth/sectors',
    tag: 'auth',
    names: ['sector', 'sectors'],
    objectType: 'sector',
    eventFields: ['name', 'slug'],
    table: auth_sectors,
    scope: 'account',
    siteColumn: auth_sectors.site_id,
    item: SectorSchema,
    create: SectorBody,
    update: Type.Omit(SectorBody, ['site_id']),
    actions: ['list', 'retrieve', 'create', 'update', 'delete'],
    access: { create: 'admin', update: 'admin', delete: 'admin' },
    hooks: sectorHooks,
    siteAccess,
    list: {
      filters: {
        site_id: { column: auth_sectors.site_id, kind: 'integer', in: true },
        is_active: { column: auth_sectors.is_active, kind: 'boolean' },
        slug: { column: auth_sectors.slug, kind: 'string', in: true },
      },
      search: [auth_sectors.name],
      ordering: { name: auth_sectors.name, created_at: auth_sectors.created_at },
    },
  });

  registerResource(fastify, deps.db, {
    path: '/api/v1/auth/industries',
    tag: 'auth',
    names: ['industry', 'industries'],
    table: auth_industries,
    scope: 'global',
    item: IndustrySchema,
    actions: ['list', 'retrieve'],
    // Reference data, needed while choosing a site's industry during sign-up: no account required.
    access: { list: 'public', retrieve: 'public' },
    throttle: 'default',
    list: {
      search: [auth_industries.name, auth_industries.description],
      ordering: { name: auth_industries.name, slug: auth_industries.slug, created_at: auth_industries.created_at },
      defaultOrdering: 'name',
      filters: { slug: { column: auth_industries.slug, kind: 'string', in: true } },
    },
  });
}
