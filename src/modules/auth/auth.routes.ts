import type { FastifyInstance } from 'fastify';
import type { Db } from '../../core/db.js';
import { registerResource } from '../../core/resource.js';
import { IndustrySchema } from './auth.schemas.js';
import { auth_industries } from './auth.tables.js';

export async function authRoutes(app: FastifyInstance, deps: { db: Db; baseUrl: string }) {
  registerResource(
    app,
    deps.db,
    {
      path: '/api/v1/auth/industries',
      tag: 'auth',
      names: ['industry', 'industries'],
      table: auth_industries,
      scope: 'global',
      item: IndustrySchema,
      actions: ['list', 'retrieve'],
      // Reference data, needed while choosing a site's industry during sign-up: no account required.
      access: { list: 'public', retrieve: 'public' },
      throttle: 'default',
      list: {
        search: [auth_industries.name, auth_industries.description],
        ordering: { name: auth_industries.name, slug: auth_industries.slug, created_at: auth_industries.created_at },
        defaultOrdering: 'name',
        filters: { slug: { column: auth_industries.slug, kind: 'string', in: true } },
      },
    },
    deps.baseUrl,
  );
}
