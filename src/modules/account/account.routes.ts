import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { isNull } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { clientOf } from '../../core/auth.js';
import type { Config } from '../../core/config.js';
import type { Db } from '../../core/db.js';
import { Envelope, noContent, ok, originOf, PageEnvelope, sendPage } from '../../core/envelope.js';
import { pageOfRows, pagingQuerySchema } from '../../core/lists.js';
import { IdParams, registerResource, sendDetail } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import { MemberSchema, TokenPairSchema, UpdateMemberBody } from '../auth/auth.schemas.js';
import { type AuthService, uncommonPassword } from '../auth/auth.service.js';
import {
  AcceptBody,
  AcceptQuery,
  ApiKeyBody,
  ApiKeySchema,
  CreatedApiKeySchema,
  InvitationPreviewSchema,
  InvitationSchema,
  InviteBody,
  SettingsBody,
  SettingsSchema,
} from './account.schemas.js';
import { type AccountService, presentApiKey } from './account.service.js';
import { account_api_keys } from './account.tables.js';

const tags = ['account'];

export async function accountRoutes(
  fastify: FastifyInstance,
  deps: { db: Db; config: Config; account: AccountService; auth: AuthService },
) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { account, config } = deps;
  // The team is the auth module's members service, the same one behind auth/users/.
  const { members } = deps.auth;

  app.get(
    '/api/v1/account/settings',
    {
      schema: { tags, summary: "The account's settings", response: { 200: Envelope(SettingsSchema) } },
      config: { access: 'read' },
    },
    async (request, reply) => sendDetail(request, reply, await account.settings(accountContext(request))),
  );
  app.patch(
    '/api/v1/account/settings',
    {
      schema: {
        tags,
        summary: "Change the account's name, time zone or billing email",
        body: SettingsBody,
        response: { 200: Envelope(SettingsSchema) },
      },
      config: { access: 'admin' },
    },
    async (request) => ok(request, await account.updateSettings(accountContext(request), request.body)),
  );

  // -------------------------------------------------------------------------------------------------------
  // Team

  app.get(
    '/api/v1/account/team',
    {
      schema: {
        tags,
        summary: 'The members of the account',
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
  app.patch(
    '/api/v1/account/team/:id',
    {
      schema: {
        tags,
        summary: "Change a member's role or sites (by user id)",
        params: IdParams,
        body: UpdateMemberBody,
        response: { 200: Envelope(MemberSchema) },
      },
      config: { access: 'admin' },
    },
    async (request) => ok(request, await members.updateMember(accountContext(request), request.params.id, request.body)),
  );
  app.delete(
    '/api/v1/account/team/:id',
    {
      schema: { tags, summary: 'Remove a member (by user id)', params: IdParams, response: { 204: Type.Null() } },
      config: { access: 'admin' },
    },
    async (request, reply) => {
      await members.removeMember(accountContext(request), request.params.id);
      return noContent(reply);
    },
  );
  app.post(
    '/api/v1/account/team/invite',
    {
      schema: { tags, summary: 'Invite someone by email', body: InviteBody, response: { 201: Envelope(InvitationSchema) } },
      config: { access: 'admin' },
    },
    async (request, reply) => {
      const invitation = await account.invite(accountContext(request), request.body, originOf(request, config.publicUrl));
      return reply.code(201).send(ok(request, invitation));
    },
  );
  // The invitation's accept_url: a link a person can open (no console yet), showing what accepting will do.
  app.get(
    '/api/v1/account/team/accept',
    {
      schema: {
        tags,
        summary: 'See an invitation before accepting it',
        description:
          "The invitation's `accept_url`. Who is invited, to which account, with which role; then `POST` the same path with the `token` (and a password if `existing_user` is false). Changes nothing. `404` when the token is invalid, used or expired.",
        querystring: AcceptQuery,
        response: { 200: Envelope(InvitationPreviewSchema) },
      },
      config: { access: 'public', throttle: 'auth' },
    },
    async (request) => ok(request, await account.previewInvitation(request.query.token)),
  );
  app.post(
    '/api/v1/account/team/accept',
    {
      schema: {
        tags,
        summary: 'Accept an invitation',
        description:
          'A new person sends a password (and name) and becomes a user; an existing user signs in first and just joins.',
        body: AcceptBody,
        response: { 200: Envelope(TokenPairSchema) },
      },
      config: { access: 'public', throttle: 'auth', idempotency: false, bodyRules: uncommonPassword('password') },
    },
    async (request) => ok(request, await account.accept(request.ctx, request.body, clientOf(request))),
  );

  // -------------------------------------------------------------------------------------------------------
  // API keys: listed and read through the resource machinery; created, revoked and rotated by the service

  registerResource(fastify, deps.db, {
    path: '/api/v1/account/api-keys',
    tag: 'account',
    names: ['API key', 'API keys'],
    table: account_api_keys,
    scope: 'account',
    baseWhere: [isNull(account_api_keys.revoked_at)],
    item: ApiKeySchema,
    actions: ['list', 'retrieve'],
    access: { list: 'admin', retrieve: 'admin' },
    present: presentApiKey,
    list: {
      filters: { site_id: { column: account_api_keys.site_id, kind: 'integer', nullable: true } },
      search: [account_api_keys.name, account_api_keys.prefix],
      ordering: {
        name: account_api_keys.name,
        created_at: account_api_keys.created_at,
        last_used_at: account_api_keys.last_used_at,
      },
    },
  });
  app.post(
    '/api/v1/account/api-keys',
    {
      schema: {
        tags,
        summary: 'Create an API key (the key is shown once)',
        description: 'Scopes default to `read` and `write`. `site_id` binds the key to one site.',
        body: ApiKeyBody,
        response: { 201: Envelope(CreatedApiKeySchema) },
      },
      config: { access: 'admin' },
    },
    async (request, reply) => {
      const created = await account.createApiKey(accountContext(request), request.body);
      return reply.code(201).header('Location', `/api/v1/account/api-keys/${created.id}/`).send(ok(request, created));
    },
  );
  app.delete(
    '/api/v1/account/api-keys/:id',
    {
      schema: { tags, summary: 'Revoke an API key', params: IdParams, response: { 204: Type.Null() } },
      config: { access: 'admin' },
    },
    async (request, reply) => {
      await account.revokeApiKey(accountContext(request), request.params.id);
      return noContent(reply);
    },
  );
  app.post(
    '/api/v1/account/api-keys/:id/rotate',
    {
      schema: {
        tags,
        summary: 'Replace an API key with a new one (the old stops working)',
        params: IdParams,
        response: { 201: Envelope(CreatedApiKeySchema) },
      },
      config: { access: 'admin' },
    },
    async (request, reply) => {
      const created = await account.rotateApiKey(accountContext(request), request.params.id);
      return reply.code(201).header('Location', `/api/v1/account/api-keys/${created.id}/`).send(ok(request, created));
    },
  );
}
