import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { plannerClusterRoutes } from './planner.clusters.routes.js';
import { plannerIdeaRoutes } from './planner.ideas.routes.js';
import type { IdeasService } from './planner.ideas.service.js';
import { MAX_IMPORT_BYTES } from './planner.import.js';
import { type PlannerRouteDeps, plannerKeywordRoutes } from './planner.keywords.routes.js';

/**
 * The planner's routes, in a scope of their own so multipart parsing (keyword import) exists only here,
 * capped at the import's limits: one file of at most 25 MiB and a few small fields.
 */
export async function plannerRoutes(app: FastifyInstance, deps: PlannerRouteDeps & { ideas: IdeasService }) {
  await app.register(async (scope) => {
    await scope.register(multipart, {
      limits: { fileSize: MAX_IMPORT_BYTES, files: 1, fields: 10, fieldSize: 1024, parts: 12, headerPairs: 100 },
    });
    await plannerKeywordRoutes(scope, deps);
    await plannerClusterRoutes(scope, deps);
    await plannerIdeaRoutes(scope, deps);
  });
}
