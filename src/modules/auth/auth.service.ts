import type { FastifyRequest } from 'fastify';
import type { Db } from '../../core/db.js';
import type { RequestContext } from '../../core/tenancy.js';

export function createAuthService(_deps: { db: Db }) {
  return {
    /** Resolves the request's credentials into a context; null when it carries none. */
    async authenticate(_request: FastifyRequest): Promise<RequestContext | null> {
      return null;
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
