import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { Envelope, noContent, ok, PageEnvelope, sendPage } from '../../core/envelope.js';
import { listQuerySchema } from '../../core/lists.js';
import { etagOf, IdParams, sendDetail } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import { TASK_LIST } from './writer.repository.js';
import { BulkIdsBody, Deleted, TaskCreateBody, TaskSchema, TaskUpdateBody } from './writer.schemas.js';
import type { TasksService } from './writer.tasks.service.js';

const PATH = '/api/v1/writer/tasks';
const tags = ['writer'];
const read = { access: 'read', throttle: 'writer' } as const;
const write = { access: 'write', throttle: 'writer' } as const;

export async function writerTaskRoutes(fastify: FastifyInstance, deps: { tasks: TasksService }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { tasks } = deps;

  app.get(
    PATH,
    {
      schema: {
        tags,
        summary: 'List writer tasks',
        description:
          'Filters: `status`, `status__in`, `cluster_id`, `idea_id` (with `__in`; `null` for none), `site_id`, `sector_id`, `created_after`, `created_before`; `search` on the title; `ordering` by created_at, updated_at, title, status, word_count_target.',
        querystring: listQuerySchema(TASK_LIST),
        response: { 200: PageEnvelope(TaskSchema) },
      },
      config: read,
    },
    async (request) => sendPage(request, await tasks.list(accountContext(request), request.query)),
  );

  app.post(
    PATH,
    {
      schema: {
        tags,
        summary: 'Create a writer task',
        description:
          "A task made by hand, `queued`. `word_count_target` defaults to the account's `default_word_count` setting; an idea's task inherits the idea's cluster unless `cluster_id` is given. The idea and cluster must be of the task's site and sector.",
        body: TaskCreateBody,
        response: { 201: Envelope(TaskSchema) },
      },
      config: write,
    },
    async (request, reply) => {
      const row = await tasks.create(accountContext(request), request.body);
      reply.code(201).header('Location', `${PATH}/${row.id}/`);
      return ok(request, row);
    },
  );

  app.post(
    `${PATH}/bulk_delete`,
    {
      schema: {
        tags,
        summary: 'Delete writer tasks in bulk',
        description: 'All of your ids or none: tasks being written (`in_progress`) make it a `409` listing them.',
        body: BulkIdsBody,
        response: { 200: Envelope(Deleted) },
      },
      config: { ...write, errors: ['conflict'] },
    },
    async (request) => ok(request, await tasks.bulkDelete(accountContext(request), request.body)),
  );

  app.get(
    `${PATH}/:id`,
    {
      schema: { tags, summary: 'Get a writer task', params: IdParams, response: { 200: Envelope(TaskSchema) } },
      config: read,
    },
    async (request, reply) => sendDetail(request, reply, await tasks.get(accountContext(request), request.params.id)),
  );

  app.patch(
    `${PATH}/:id`,
    {
      schema: {
        tags,
        summary: 'Update part of a writer task',
        description:
          'Only while nothing is writing it (`queued`, or `failed` before a retry); otherwise `409`. The status moves through `cancel/` and `retry/` (and the generation job), not here. `If-Match` with the ETag read makes a concurrent change a `412`.',
        params: IdParams,
        body: TaskUpdateBody,
        response: { 200: Envelope(TaskSchema) },
      },
      config: { ...write, errors: ['conflict'] },
    },
    async (request, reply) => {
      const row = await tasks.update(accountContext(request), request.params.id, request.body, request.headers['if-match']);
      reply.header('ETag', etagOf(row));
      return ok(request, row);
    },
  );

  app.delete(
    `${PATH}/:id`,
    {
      schema: {
        tags,
        summary: 'Delete a writer task',
        description: 'Not while it is being written (`409`).',
        params: IdParams,
        response: { 204: Type.Null() },
      },
      config: { ...write, errors: ['conflict'] },
    },
    async (request, reply) => {
      await tasks.remove(accountContext(request), request.params.id);
      return noContent(reply);
    },
  );

  for (const [action, summary, description] of [
    ['cancel', 'Cancel a queued writer task', '`queued` → `cancelled`; any other status is a `409` naming it.'],
    ['retry', 'Queue a failed writer task again', '`failed` → `queued`, its error cleared; any other status is a `409`.'],
  ] as const) {
    app.post(
      `${PATH}/:id/${action}`,
      {
        schema: { tags, summary, description, params: IdParams, response: { 200: Envelope(TaskSchema) } },
        config: { ...write, errors: ['conflict'] },
      },
      async (request, reply) => {
        const row = await tasks[action](accountContext(request), request.params.id);
        reply.header('ETag', etagOf(row));
        return ok(request, row);
      },
    );
  }
}
