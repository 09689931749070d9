import { createHash } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from './errors.js';
import { isValidKey, MAX_KEY_LENGTH, MEDIA_PATH, type Storage } from './storage.js';

/**
 * `GET /media/<key>`: stored files, served from whichever store holds them (core/storage.ts). Public — a key
 * is 32 random bytes, so knowing it is the permission, as with any unguessable link — and cacheable for ever:
 * a key never names other bytes (a new image gets a new key), so browsers and CDNs keep it for a year without
 * asking again. Kept out of the API document, like /metrics: it is plumbing, not part of the JSON API.
 */

const NOT_FOUND = () => new AppError('not_found', 'No stored file has this address.');

export async function mediaRoutes(fastify: FastifyInstance, deps: { storage: Storage }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    `${MEDIA_PATH}/:key`,
    {
      schema: { hide: true, params: Type.Object({ key: Type.String({ maxLength: MAX_KEY_LENGTH }) }) },
      // No credential is needed, so none is looked up (a browser sends its session cookie with every image).
      config: { access: 'public', authenticate: false, idempotency: false },
    },
    async (request, reply) => {
      const { key } = request.params;
      if (!isValidKey(key)) throw NOT_FOUND();
      const file = await deps.storage.get(key);
      if (!file) throw NOT_FOUND();
      const etag = `"${createHash('sha256').update(file.body).digest('base64url').slice(0, 32)}"`;
      reply
        .header('ETag', etag)
        .header('Cache-Control', 'public, max-age=31536000, immutable')
        .header('X-Content-Type-Options', 'nosniff')
        // Articles are read on other sites (the WordPress blog): they may embed the image.
        .header('Cross-Origin-Resource-Policy', 'cross-origin');
      const given = request.headers['if-none-match'];
      if (given?.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) return reply.code(304).send();
      return reply.type(file.contentType).header('Content-Length', file.bytes).send(file.body);
    },
  );
}
