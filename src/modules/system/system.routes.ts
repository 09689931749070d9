import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Envelope, ok } from '../../core/envelope.js';
import { AppError } from '../../core/errors.js';
import { HealthSchema } from './system.schemas.js';
import type { SystemService } from './system.service.js';

export async function systemRoutes(fastify: FastifyInstance, services: { system: SystemService }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/v1/system/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Health of the API and what it depends on',
        description: 'No authentication. `503` (with the same report in `details`) when the database is down.',
        response: { 200: Envelope(HealthSchema) },
      },
      config: { access: 'public', throttle: false, idempotency: false, errors: ['service_unavailable'] },
    },
    async (request, reply) => {
      const health = await services.system.health();
      reply.header('Cache-Control', 'no-store');
      if (health.database.status === 'down') {
        throw new AppError('service_unavailable', 'The database is not answering.', { details: { ...health } });
      }
      return ok(request, health);
    },
  );
}
