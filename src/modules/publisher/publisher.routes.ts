import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { acceptedTask, Envelope, PageEnvelope, sendAccepted, sendPage } from '../../core/envelope.js';
import { listQuerySchema } from '../../core/lists.js';
import { IdParams, sendDetail } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import { RECORD_LIST } from './publisher.repository.js';
import { MAX_PUBLISH, PublishAccepted, PublishBody, PublishingRecordSchema } from './publisher.schemas.js';
import type { PublisherService } from './publisher.service.js';

const tags = ['publisher'];
const RECORDS = '/api/v1/publisher/publishing-records';
const write = { access: 'write', throttle: 'integration' } as const;

/** The publisher's routes (publishing to WordPress); the deployments' routes are registered beside these. */
export async function publisherRoutes(fastify: FastifyInstance, deps: { publisher: PublisherService }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { publisher } = deps;

  app.post(
    '/api/v1/publisher/publish',
    {
      schema: {
        tags,
        summary: "Publish articles to their site's WordPress",
        description:
          `Up to ${MAX_PUBLISH} articles (\`content_ids\`), each approved or published (to update its post): one publishing record per article ` +
          '(reused by later publishes, so the same remote post is updated, never duplicated) and one task (`202`) that sends them: categories and tags by name ' +
          '(existing terms reused), the featured image and the images the article shows uploaded once each with their alt text, image URLs pointed at the uploads, ' +
          'the post created or updated and read back (its featured image checked), then the record and the article `published` with the post id and link. ' +
          '`status`: `publish` (default), `draft`, or `future` with `date`. An article in another status, not yours, or whose featured image has no file is a field error ' +
          '(`content_ids.<index>`) and nothing is queued; one being published already is a `409`. WordPress 5xx, timeouts and dropped connections are retried with backoff; ' +
          "a 4xx fails the record with WordPress's own message.",
        body: PublishBody,
        response: { 202: Envelope(PublishAccepted) },
      },
      config: { ...write, errors: ['conflict'] },
    },
    async (request, reply) => {
      const { task, record_ids } = await publisher.publish(accountContext(request), request.body);
      return sendAccepted(request, reply, { ...acceptedTask(task), record_ids });
    },
  );

  app.get(
    RECORDS,
    {
      schema: {
        tags,
        summary: 'List publishing records',
        description:
          'One per article and destination. Filters: `content_id` (with `__in`), `site_id`, `status` (with `__in`), `destination`, `created_after`, `created_before`; `ordering` by created_at, updated_at, published_at, status.',
        querystring: listQuerySchema(RECORD_LIST),
        response: { 200: PageEnvelope(PublishingRecordSchema) },
      },
      config: { access: 'read' },
    },
    async (request) => sendPage(request, await publisher.list(accountContext(request), request.query)),
  );

  app.get(
    `${RECORDS}/:id`,
    {
      schema: { tags, summary: 'One publishing record', params: IdParams, response: { 200: Envelope(PublishingRecordSchema) } },
      config: { access: 'read' },
    },
    async (request, reply) => sendDetail(request, reply, await publisher.get(accountContext(request), request.params.id)),
  );

  app.post(
    `${RECORDS}/:id/retry`,
    {
      schema: {
        tags,
        summary: 'Publish a failed record again',
        description: '`failed` → `pending`, sent by a new task (`202`); any other status is a `409` naming it.',
        params: IdParams,
        response: { 202: Envelope(PublishAccepted) },
      },
      config: { ...write, errors: ['conflict'] },
    },
    async (request, reply) => {
      const { task, record_ids } = await publisher.retry(accountContext(request), request.params.id);
      return sendAccepted(request, reply, { ...acceptedTask(task), record_ids });
    },
  );

  app.post(
    `${RECORDS}/:id/unpublish`,
    {
      schema: {
        tags,
        summary: "Move a record's remote post to WordPress's trash",
        description:
          'At once: the post is trashed (restorable in WordPress; publishing again brings it back), the record becomes `unpublished` and the article `approved`. ' +
          "A record without a remote post, or being published, is a `409`; WordPress unreachable or refusing is a `503` with WordPress's words, and nothing changes.",
        params: IdParams,
        response: { 200: Envelope(PublishingRecordSchema) },
      },
      config: { ...write, errors: ['conflict', 'service_unavailable'] },
    },
    async (request, reply) => sendDetail(request, reply, await publisher.unpublish(accountContext(request), request.params.id)),
  );
}
