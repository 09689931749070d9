import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { acceptedTask, Envelope, PageEnvelope, sendAccepted, sendPage } from '../../core/envelope.js';
import { listQuerySchema } from '../../core/lists.js';
import { IdParams, registerResource } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import { clusterHooks } from './planner.clusters.service.js';
import type { PlannerRouteDeps } from './planner.keywords.routes.js';
import { KEYWORD_LIST } from './planner.keywords.service.js';
import {
  ClusterCreateBody,
  ClusterSchema,
  ClusterUpdateBody,
  GenerateIdeasBody,
  KeywordSchema,
  TaskAcceptedForIds,
} from './planner.schemas.js';
import { CLUSTER_STATUSES, planner_clusters } from './planner.tables.js';

const PATH = '/api/v1/planner/clusters';
const tags = ['planner'];

export async function plannerClusterRoutes(fastify: FastifyInstance, deps: PlannerRouteDeps) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    `${PATH}/:id/keywords`,
    {
      schema: {
        tags,
        summary: "List a cluster's keywords",
        description: 'The keyword list (same filters, search and ordering; default `-volume`) of one cluster.',
        params: IdParams,
        querystring: listQuerySchema(KEYWORD_LIST),
        response: { 200: PageEnvelope(KeywordSchema) },
      },
      config: { access: 'read', throttle: 'planner' },
    },
    async (request) => {
      const { id } = request.params;
      return sendPage(request, await deps.clustering.clusterKeywords(accountContext(request), id, request.query));
    },
  );

  app.post(
    `${PATH}/auto_generate_ideas`,
    {
      schema: {
        tags,
        summary: 'Generate content ideas for clusters with AI',
        description:
          'For each of your clusters among `ids`, `ideas_per_cluster` (default 3) ideas with outlines, in the background (`202` with the task). Charged per cluster as each succeeds; `402` up front when the balance cannot cover them all, `503` when no AI provider is configured.',
        body: GenerateIdeasBody,
        response: { 202: Envelope(TaskAcceptedForIds) },
      },
      config: { access: 'write', throttle: 'ai', errors: ['insufficient_credits', 'service_unavailable'] },
    },
    async (request, reply) => {
      const { task, skipped } = await deps.clustering.startIdeas(accountContext(request), request.body);
      return sendAccepted(request, reply, { ...acceptedTask(task), skipped });
    },
  );

  registerResource(app, deps.db, {
    path: PATH,
    tag: 'planner',
    names: ['cluster', 'clusters'],
    objectType: 'cluster',
    eventFields: ['name', 'sector_id'],
    table: planner_clusters,
    scope: 'site',
    item: ClusterSchema,
    create: ClusterCreateBody,
    update: ClusterUpdateBody,
    actions: ['list', 'retrieve', 'create', 'update', 'delete'],
    throttle: 'planner',
    hooks: clusterHooks,
    // A status change its transitions do not allow.
    errors: { update: ['conflict'] },
    siteAccess: deps.siteAccess,
    list: {
      filters: {
        status: { column: planner_clusters.status, kind: 'string', values: CLUSTER_STATUSES, in: true },
        keywords_count: { column: planner_clusters.keywords_count, kind: 'integer', range: true },
        volume: { column: planner_clusters.volume, kind: 'integer', range: true },
        difficulty: { column: planner_clusters.difficulty, kind: 'integer', range: true },
      },
      search: [planner_clusters.name],
      ordering: {
        name: planner_clusters.name,
        keywords_count: planner_clusters.keywords_count,
        volume: planner_clusters.volume,
        difficulty: planner_clusters.difficulty,
        created_at: planner_clusters.created_at,
      },
    },
  });
}
