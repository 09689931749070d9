import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { Envelope, ok, PageEnvelope, sendPage } from '../../core/envelope.js';
import { listQuerySchema } from '../../core/lists.js';
import { IdParams, sendDetail } from '../../core/resource.js';
import { serveEventStream } from '../../core/sse.js';
import type { system_tasks } from '../../core/tasks.tables.js';
import { accountContext } from '../../core/tenancy.js';
import { TaskSchema } from './system.tasks.schemas.js';
import { TASK_LIST, type TasksService, taskPath } from './system.tasks.service.js';

/** A task as it goes out in a server-sent event (the same fields as the detail). */
const wire = (task: typeof system_tasks.$inferSelect) => {
  const { account_id: _a, actor_id: _u, payload: _p, job_id: _j, ...rest } = task;
  return rest;
};

export async function systemTasksRoutes(fastify: FastifyInstance, services: { tasks: TasksService }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { tasks } = services;
  const tags = ['system'];

  app.get(
    '/api/v1/system/tasks',
    {
      schema: {
        tags,
        summary: 'List background tasks',
        description:
          "The account's tasks, newest first. A feed: with no pagination parameter, the first cursor page (`count` null); page and offset styles also work.",
        querystring: listQuerySchema(TASK_LIST),
        response: { 200: PageEnvelope(TaskSchema) },
      },
      config: { access: 'read' },
    },
    async (request) => sendPage(request, await tasks.list(accountContext(request), request.query)),
  );

  app.get(
    '/api/v1/system/tasks/:id',
    {
      schema: { tags, summary: 'Retrieve a task', params: IdParams, response: { 200: Envelope(TaskSchema) } },
      config: { access: 'read' },
    },
    async (request, reply) => {
      const { id } = request.params;
      return sendDetail(request, reply, wire(await tasks.get(accountContext(request), id)));
    },
  );

  app.post(
    '/api/v1/system/tasks/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a task',
        description:
          'A queued task is cancelled at once (`200`). A running one is asked to stop at its next unit of work (`202`, `Location` of the task; it then reads `cancelled`). A finished one is `409`.',
        params: IdParams,
        response: { 200: Envelope(TaskSchema), 202: Envelope(TaskSchema) },
      },
      config: { access: 'write' },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { task, pending } = await tasks.cancel(accountContext(request), id);
      if (pending) reply.code(202).header('Location', taskPath(id));
      return ok(request, wire(task), pending ? 'Cancellation requested; the task stops at its next unit of work.' : undefined);
    },
  );

  app.get(
    '/api/v1/system/tasks/:id/events',
    {
      schema: {
        tags,
        summary: 'Follow a task as server-sent events',
        description:
          'A `text/event-stream`: an event `task` with the task (same fields as the detail) each time it changes, then `end` with its final state, and the stream closes.',
        params: IdParams,
        response: { 200: { description: 'Server-sent events.', content: { 'text/event-stream': { schema: Type.String() } } } },
      },
      config: { access: 'read' },
    },
    async (request, reply) => {
      const { id } = request.params;
      const ctx = accountContext(request);
      const first = await tasks.get(ctx, id); // 404 before the stream starts
      await serveEventStream(
        request,
        reply,
        async (stream) => {
          let last = first;
          for await (const task of tasks.watch(ctx, id, stream.signal)) {
            last = task;
            stream.send({ event: 'task', id: task.updated_at.getTime(), data: wire(task) });
          }
          if (!stream.signal.aborted) stream.send({ event: 'end', data: wire(last) });
        },
        'reconnect',
      );
    },
  );
}
