import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Envelope, ok } from '../../core/envelope.js';
import { registerResource } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import { type IdeasService, ideaHooks } from './planner.ideas.service.js';
import type { PlannerRouteDeps } from './planner.keywords.routes.js';
import { BulkIdsBody, IdeaCreateBody, IdeaSchema, IdeaUpdateBody, QueuedResult } from './planner.schemas.js';
import { CONTENT_STRUCTURES, CONTENT_TYPES, IDEA_STATUSES, planner_content_ideas } from './planner.tables.js';

const PATH = '/api/v1/planner/content-ideas';

export async function plannerIdeaRoutes(fastify: FastifyInstance, deps: PlannerRouteDeps & { ideas: IdeasService }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    `${PATH}/bulk_queue_to_writer`,
    {
      schema: {
        tags: ['planner'],
        summary: 'Queue content ideas to the writer',
        description:
          'Creates one writer task per idea and marks the ideas `queued`; all or none (`409` lists ideas that are not `new`).',
        body: BulkIdsBody,
        response: { 200: Envelope(QueuedResult) },
      },
      config: { access: 'write', throttle: 'planner' },
    },
    async (request) => ok(request, await deps.ideas.queueToWriter(accountContext(request), request.body)),
  );

  registerResource(app, deps.db, {
    path: PATH,
    tag: 'planner',
    names: ['content idea', 'content ideas'],
    objectType: 'content_idea',
    eventFields: ['title', 'sector_id'],
    table: planner_content_ideas,
    scope: 'site',
    item: IdeaSchema,
    create: IdeaCreateBody,
    update: IdeaUpdateBody,
    actions: ['list', 'retrieve', 'create', 'update', 'delete'],
    throttle: 'planner',
    hooks: ideaHooks,
    // A status change its transitions do not allow.
    errors: { update: ['conflict'] },
    siteAccess: deps.siteAccess,
    list: {
      filters: {
        status: { column: planner_content_ideas.status, kind: 'string', values: IDEA_STATUSES, in: true },
        cluster_id: { column: planner_content_ideas.cluster_id, kind: 'integer', in: true, nullable: true },
        content_type: { column: planner_content_ideas.content_type, kind: 'string', values: CONTENT_TYPES, in: true },
        content_structure: {
          column: planner_content_ideas.content_structure,
          kind: 'string',
          values: CONTENT_STRUCTURES,
          in: true,
        },
      },
      search: [planner_content_ideas.title],
      ordering: {
        title: planner_content_ideas.title,
        estimated_word_count: planner_content_ideas.estimated_word_count,
        created_at: planner_content_ideas.created_at,
      },
    },
  });
}
