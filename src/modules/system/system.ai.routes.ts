import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Ai } from '../../core/ai.js';
import { Envelope, ok, PageEnvelope } from '../../core/envelope.js';
import { notFound } from '../../core/errors.js';
import { registerResource, sendDetail } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import {
  AiCheckSchema,
  AiSettingsSchema,
  AiSettingsUpdate,
  AuthorProfileBody,
  AuthorProfileSchema,
  PromptListQuery,
  PromptParams,
  PromptUpdate,
  promptSchema,
} from './system.ai.schemas.js';
import type { SystemAiService } from './system.ai.service.js';
import { system_author_profiles } from './system.tables.js';

/**
 * `system/settings/`, `system/prompts/`, `system/author-profiles/` and `system/ai/check/`. Everyone in the
 * account reads; admins change settings and prompts and run the provider check; editors manage authors.
 */
export async function systemAiRoutes(
  fastify: FastifyInstance,
  services: { systemAi: SystemAiService; ai: Ai; db: Parameters<typeof registerResource>[1]; config: { publicUrl: string } },
) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { systemAi, ai } = services;
  const tags = ['system'];
  const PromptSchema = promptSchema(systemAi.functionNames);

  app.get(
    '/api/v1/system/settings',
    {
      schema: { tags, summary: "The account's AI settings", response: { 200: Envelope(AiSettingsSchema) } },
      config: { access: 'read' },
    },
    async (request, reply) => sendDetail(request, reply, await systemAi.getSettings(accountContext(request))),
  );

  app.patch(
    '/api/v1/system/settings',
    {
      schema: {
        tags,
        summary: "Change the account's AI settings",
        body: AiSettingsUpdate,
        response: { 200: Envelope(AiSettingsSchema) },
      },
      config: { access: 'admin' },
    },
    async (request) => ok(request, await systemAi.updateSettings(accountContext(request), request.body)),
  );

  app.get(
    '/api/v1/system/prompts',
    {
      schema: {
        tags,
        summary: 'List the AI prompts',
        description: "One entry per AI function (always all of them, on one page): the account's override or the default.",
        querystring: PromptListQuery,
        response: { 200: PageEnvelope(PromptSchema) },
      },
      config: { access: 'read' },
    },
    async (request) => {
      if ((request.query.page ?? 1) > 1) throw notFound('Page');
      const results = await systemAi.listPrompts(accountContext(request));
      return ok(request, { count: results.length, next: null, previous: null, results });
    },
  );

  app.get(
    '/api/v1/system/prompts/:function',
    {
      schema: {
        tags,
        summary: 'Get the prompt of an AI function',
        params: PromptParams,
        response: { 200: Envelope(PromptSchema) },
      },
      config: { access: 'read' },
    },
    async (request, reply) =>
      sendDetail(request, reply, await systemAi.getPrompt(accountContext(request), request.params.function)),
  );

  app.patch(
    '/api/v1/system/prompts/:function',
    {
      schema: {
        tags,
        summary: 'Override the prompt of an AI function',
        description: 'Templates use `{{variable}}` with the names in `variables`; any other name is a field error.',
        params: PromptParams,
        body: PromptUpdate,
        response: { 200: Envelope(PromptSchema) },
      },
      config: { access: 'admin' },
    },
    async (request) => ok(request, await systemAi.updatePrompt(accountContext(request), request.params.function, request.body)),
  );

  app.post(
    '/api/v1/system/prompts/:function/reset',
    {
      schema: {
        tags,
        summary: 'Go back to the default prompt of an AI function',
        params: PromptParams,
        response: { 200: Envelope(PromptSchema) },
      },
      config: { access: 'admin' },
    },
    async (request) => ok(request, await systemAi.resetPrompt(accountContext(request), request.params.function)),
  );

  app.post(
    '/api/v1/system/ai/check',
    {
      schema: {
        tags,
        summary: 'Check the AI provider',
        description:
          'One tiny call to the configured provider (free: nothing is charged or recorded): the model that answered, the latency and whether JSON output works. `503` naming what to set when no provider is configured, or naming what to check when the provider fails.',
        response: { 200: Envelope(AiCheckSchema) },
      },
      config: { access: 'admin', throttle: 'ai', errors: ['service_unavailable'] },
    },
    async (request) => ok(request, await systemAi.checkProvider(accountContext(request), ai)),
  );

  registerResource(app, services.db, {
    path: '/api/v1/system/author-profiles',
    tag: 'system',
    names: ['author profile', 'author profiles'],
    objectType: 'author_profile',
    eventFields: ['name'],
    table: system_author_profiles,
    scope: 'account',
    item: AuthorProfileSchema,
    create: AuthorProfileBody,
    update: AuthorProfileBody,
    actions: ['list', 'retrieve', 'create', 'update', 'delete'],
    list: {
      search: [system_author_profiles.name],
      ordering: { name: system_author_profiles.name, created_at: system_author_profiles.created_at },
    },
  });
}
