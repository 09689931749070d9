import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { Envelope, noContent, ok, PageEnvelope, sendAccepted, sendPage } from '../../core/envelope.js';
import { listQuerySchema } from '../../core/lists.js';
import { etagOf, IdParams, sendDetail } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import { INTEGRATION_LIST } from './integration.repository.js';
import {
  ConnectionCheckSchema,
  IntegrationCreateBody,
  IntegrationSchema,
  IntegrationUpdateBody,
  IntegrationWithSecretSchema,
  ReceivedSchema,
  SyncBody,
  WebhookParams,
  WebhookQuery,
} from './integration.schemas.js';
import type { IntegrationService } from './integration.service.js';
import type { IncomingWebhooks } from './integration.webhooks.js';

const PATH = '/api/v1/integration/integrations';
const tags = ['integration'];
const throttle = 'integration' as const;
const read = { access: 'read', throttle } as const;
// Integrations are account settings: admins manage them; editors may check and import through them.
const admin = { access: 'admin', throttle } as const;
const write = { access: 'write', throttle } as const;

const TaskAccepted = Type.Object({ task_id: Type.Integer(), status: Type.String() });

export async function integrationRoutes(
  fastify: FastifyInstance,
  deps: { integrations: IntegrationService; incomingWebhooks: IncomingWebhooks },
) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { integrations } = deps;

  app.get(
    PATH,
    {
      schema: {
        tags,
        summary: 'List site integrations',
        description:
          'Filters: `site_id`, `platform`, `status` (with `__in`), `created_after`, `created_before`; `search` on base_url; `ordering` by created_at, updated_at, last_checked_at. Credentials and webhook secrets are never shown.',
        querystring: listQuerySchema(INTEGRATION_LIST),
        response: { 200: PageEnvelope(IntegrationSchema) },
      },
      config: read,
    },
    async (request) => sendPage(request, await integrations.list(accountContext(request), request.query)),
  );

  app.post(
    PATH,
    {
      schema: {
        tags,
        summary: 'Connect a site',
        description:
          'One integration per site and platform (`409` for a second). For `wordpress`, the REST root is discovered from `base_url` (`/wp-json/` or `/?rest_route=/`; a `400` on `base_url` when none answers). `credentials` (an application password) is encrypted and never returned. The answer carries the new `webhook_secret`, shown only here and by `rotate_secret/`.',
        body: IntegrationCreateBody,
        response: { 201: Envelope(IntegrationWithSecretSchema) },
      },
      config: { ...admin, errors: ['conflict'] },
    },
    async (request, reply) => {
      const created = await integrations.create(accountContext(request), request.body);
      reply.code(201).header('Location', `${PATH}/${created.id}/`);
      return ok(request, created);
    },
  );

  app.get(
    `${PATH}/:id`,
    {
      schema: { tags, summary: 'Get a site integration', params: IdParams, response: { 200: Envelope(IntegrationSchema) } },
      config: read,
    },
    async (request, reply) => sendDetail(request, reply, await integrations.get(accountContext(request), request.params.id)),
  );

  app.patch(
    `${PATH}/:id`,
    {
      schema: {
        tags,
        summary: 'Update a site integration',
        description:
          'A new `base_url` is discovered again; `credentials: null` removes the password; `status` `disabled`/`active`. With `If-Match`, a row changed meanwhile is a `412`.',
        params: IdParams,
        body: IntegrationUpdateBody,
        response: { 200: Envelope(IntegrationSchema) },
      },
      config: admin,
    },
    async (request, reply) => {
      const row = await integrations.update(
        accountContext(request),
        request.params.id,
        request.body,
        request.headers['if-match'],
      );
      reply.header('ETag', etagOf(row));
      return ok(request, row);
    },
  );

  app.delete(
    `${PATH}/:id`,
    {
      schema: { tags, summary: 'Delete a site integration', params: IdParams, response: { 204: Type.Null() } },
      config: admin,
    },
    async (request, reply) => {
      await integrations.remove(accountContext(request), request.params.id);
      return noContent(reply);
    },
  );

  app.post(
    `${PATH}/:id/test_connection`,
    {
      schema: {
        tags,
        summary: 'Check a site integration',
        description:
          "Asks WordPress `users/me?context=edit` with the stored application password and reports the REST root, the WordPress version, the authentication methods the site offers, and the publishing capabilities the user lacks. A wrong password is `code: authentication_failed`; an answer as if no credentials were sent (`credentials_seen: false`) names the usual cause, a server stripping the Authorization header, and its fix. The integration's `status`, `last_checked_at` and `last_error` are updated. A `webhook` integration gets a signed ping.",
        params: IdParams,
        response: { 200: Envelope(ConnectionCheckSchema) },
      },
      config: write,
    },
    async (request) => ok(request, await integrations.testConnection(accountContext(request), request.params.id)),
  );

  app.post(
    `${PATH}/:id/sync`,
    {
      schema: {
        tags,
        summary: "Import a WordPress site's content",
        description:
          'A task (`202`): the categories and tags, then the published posts and pages, into content of `sector_id` with `source` `imported`, `external_id` (the post id) and `external_url`, categories and tags by name. A second sync updates the same articles. `409` for a webhook or disabled integration.',
        params: IdParams,
        body: SyncBody,
        response: { 202: Envelope(TaskAccepted) },
      },
      config: { ...write, errors: ['conflict'] },
    },
    async (request, reply) =>
      sendAccepted(request, reply, await integrations.startSync(accountContext(request), request.params.id, request.body)),
  );

  app.post(
    `${PATH}/:id/rotate_secret`,
    {
      schema: {
        tags,
        summary: 'Rotate the webhook secret',
        description: 'A new `webhook_secret`, shown only in this answer; deliveries signed with the old one are refused.',
        params: IdParams,
        response: { 200: Envelope(IntegrationWithSecretSchema) },
      },
      config: admin,
    },
    async (request) => ok(request, await integrations.rotateSecret(accountContext(request), request.params.id)),
  );

  app.post(
    '/api/v1/integration/webhooks/:provider',
    {
      schema: {
        tags,
        summary: "A provider's event (signed)",
        description:
          "No auth, no camelCase conversion, no Idempotency-Key. Name the integration with the `X-Integration-Id` header (or `?integration=<id>`) and sign the raw body: `X-Signature: sha256=<hex HMAC-SHA256 of the body with the integration's webhook_secret>`. The event id is the `X-Event-Id` header or the body's `id`; the type `X-Event-Type` or the body's `type`. Each event is stored once and handled by a job, which records `webhook.ingested` with `source_agent` `webhook:<provider>`; every accepted delivery, first or repeated, answers `200 {received: true}`. A missing or bad signature, or no secret configured, is `400`.",
        params: WebhookParams,
        querystring: WebhookQuery,
        headers: Type.Object({
          'x-integration-id': Type.Optional(Type.String({ description: 'The integration id.' })),
          'x-signature': Type.Optional(Type.String({ description: '`sha256=<hex>`.' })),
          'x-event-id': Type.Optional(Type.String()),
          'x-event-type': Type.Optional(Type.String()),
        }),
        response: { 200: Envelope(ReceivedSchema) },
      },
      config: { access: 'public', rawBody: true, idempotency: false, throttle },
    },
    async (request) => {
      const { received } = await deps.incomingWebhooks.receive({
        provider: request.params.provider,
        integrationHeader: request.headers['x-integration-id'],
        integrationQuery: request.query.integration,
        signature: request.headers['x-signature'],
        eventIdHeader: request.headers['x-event-id'],
        eventTypeHeader: request.headers['x-event-type'],
        rawBody: request.rawBodyText,
        body: request.body,
      });
      return ok(request, { received });
    },
  );
}
