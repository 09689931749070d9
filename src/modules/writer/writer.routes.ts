import type { FastifyInstance } from 'fastify';
import { writerApprovalRoutes } from './writer.approvals.routes.js';
import { writerContentRoutes } from './writer.content.routes.js';
import type { WriterService } from './writer.service.js';
import { writerTaskRoutes } from './writer.tasks.routes.js';

/** The writer's routes: tasks, content (with versions and status actions) and the review queue. */
export async function writerRoutes(app: FastifyInstance, services: { writer: WriterService }) {
  await writerTaskRoutes(app, services.writer);
  await writerContentRoutes(app, services.writer);
  await writerApprovalRoutes(app, services.writer);
}
