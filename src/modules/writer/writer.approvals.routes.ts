import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { acceptedTask, Envelope, ok, PageEnvelope, sendAccepted, sendPage } from '../../core/envelope.js';
import { listQuerySchema } from '../../core/lists.js';
import { etagOf, IdParams } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import type { ApprovalsService } from './writer.approvals.service.js';
import { REVIEW_LIST } from './writer.repository.js';
import {
  ApproveBody,
  ApprovePublishAccepted,
  ContentListItem,
  ContentSchema,
  OverrideBody,
  RejectBody,
} from './writer.schemas.js';

const PATH = '/api/v1/writer/approvals';
const tags = ['writer'];
const write = { access: 'write', throttle: 'writer' } as const;

export async function writerApprovalRoutes(fastify: FastifyInstance, deps: { approvals: ApprovalsService }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { approvals } = deps;

  app.get(
    PATH,
    {
      schema: {
        tags,
        summary: 'The review queue',
        description:
          'Content in `review`, oldest submission first (`ordering` by submitted_at, created_at, title). Filters: `site_id`, `sector_id`, `source`, `cluster_id`; `search` on the title. The ids are content ids.',
        querystring: listQuerySchema(REVIEW_LIST),
        response: { 200: PageEnvelope(ContentListItem) },
      },
      config: { access: 'read', throttle: 'writer' },
    },
    async (request) => sendPage(request, await approvals.list(accountContext(request), request.query)),
  );

  app.post(
    `${PATH}/:id/approve`,
    {
      schema: {
        tags,
        summary: 'Approve an article in review',
        description:
          '`review` → `approved`, with the reviewer, the time and the optional note. With `publish: true` its publication is queued too ' +
          '(publisher/publish/): `202` with the task, the publishing record and the article; an article the publisher cannot send (its featured image has no file) is a field error on `publish`, and nothing changes.',
        params: IdParams,
        body: ApproveBody,
        response: { 200: Envelope(ContentSchema), 202: Envelope(ApprovePublishAccepted) },
      },
      config: { ...write, errors: ['conflict'] },
    },
    async (request, reply) => {
      const { row, publishing } = await approvals.approve(accountContext(request), request.params.id, request.body);
      if (publishing) {
        return sendAccepted(request, reply, {
          ...acceptedTask(publishing.task),
          record_ids: publishing.record_ids,
          content: row,
        });
      }
      reply.header('ETag', etagOf(row));
      return ok(request, row);
    },
  );

  app.post(
    `${PATH}/:id/reject`,
    {
      schema: {
        tags,
        summary: 'Reject an article in review',
        description: '`review` → `rejected`; the note (required) tells the writer why. `reopen/` takes it back to draft.',
        params: IdParams,
        body: RejectBody,
        response: { 200: Envelope(ContentSchema) },
      },
      config: { ...write, errors: ['conflict'] },
    },
    async (request, reply) => {
      const row = await approvals.reject(accountContext(request), request.params.id, request.body);
      reply.header('ETag', etagOf(row));
      return ok(request, row);
    },
  );

  app.post(
    `${PATH}/:id/override`,
    {
      schema: {
        tags,
        summary: 'Edit an article in review and approve it',
        description:
          "The reviewer's edit of the text fields is saved (the previous text kept as a version with reason `override`) and the article approved, in one step.",
        params: IdParams,
        body: OverrideBody,
        response: { 200: Envelope(ContentSchema) },
      },
      config: { ...write, errors: ['conflict'] },
    },
    async (request, reply) => {
      const row = await approvals.override(accountContext(request), request.params.id, request.body);
      reply.header('ETag', etagOf(row));
      return ok(request, row);
    },
  );
}
