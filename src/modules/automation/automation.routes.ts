import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { acceptedTask, Envelope, ok, PageEnvelope, sendAccepted, sendPage } from '../../core/envelope.js';
import { listQuerySchema } from '../../core/lists.js';
import { IdParams, sendDetail } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import { LOG_LIST, RUN_LIST } from './automation.repository.js';
import {
  ConfigPatchBody,
  ConfigSchema,
  EstimateQuery,
  EstimateSchema,
  LogSchema,
  RunAccepted,
  RunNowBody,
  RunSchema,
  SiteParams,
} from './automation.schemas.js';
import type { AutomationService } from './automation.service.js';

const tags = ['automation'];

export async function automationRoutes(fastify: FastifyInstance, deps: { automation: AutomationService }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { automation } = deps;

  app.get(
    '/api/v1/automation/configs/:site_id',
    {
      schema: {
        tags,
        summary: "A site's automation config",
        description: 'The defaults (`id` null) until a PATCH stores it; `next_runs` are the schedule’s next five times.',
        params: SiteParams,
        response: { 200: Envelope(ConfigSchema) },
      },
      config: { access: 'read' },
    },
    async (request, reply) =>
      sendDetail(request, reply, await automation.getConfig(accountContext(request), request.params.site_id)),
  );

  app.patch(
    '/api/v1/automation/configs/:site_id',
    {
      schema: {
        tags,
        summary: "Change a site's automation config (created on the first PATCH)",
        description:
          '`schedule` is `{cron, timezone}`: a cron expression croner reads and an IANA time zone; a bad one is a field error on `schedule.cron` or `schedule.timezone`. ' +
          'Stages (`clusters`, `ideas`, `tasks`, `articles`, `image_prompts`, `images`, `optimize`, `link`, `review`) each take `enabled` and `batch_size`. ' +
          '`If-Match` with the ETag of a GET: `412` when the config changed since.',
        params: SiteParams,
        body: ConfigPatchBody,
        response: { 200: Envelope(ConfigSchema) },
      },
      config: { access: 'write', throttle: 'automation' },
    },
    async (request) =>
      ok(
        request,
        await automation.updateConfig(accountContext(request), request.params.site_id, request.body, request.headers['if-match']),
      ),
  );

  app.get(
    '/api/v1/automation/estimate',
    {
      schema: {
        tags,
        summary: 'What the next run of a site would take and cost, stage by stage (at most)',
        querystring: EstimateQuery,
        response: { 200: Envelope(EstimateSchema) },
      },
      config: { access: 'read' },
    },
    async (request) => ok(request, await automation.estimate(accountContext(request), request.query.site_id)),
  );

  app.post(
    '/api/v1/automation/run_now',
    {
      schema: {
        tags,
        summary: 'Start a run of the site’s pipeline now',
        description:
          '`409` while the site has an active run (queued, running or paused); `503` when the run needs AI and none is configured; `402` when its estimate passes the balance or `max_credits_per_run`.',
        body: RunNowBody,
        response: { 202: Envelope(RunAccepted) },
      },
      config: { access: 'write', throttle: 'automation', errors: ['insufficient_credits', 'service_unavailable'] },
    },
    async (request, reply) => {
      const { run, task } = await automation.runNow(accountContext(request), request.body);
      return sendAccepted(request, reply, { ...acceptedTask(task), run });
    },
  );

  app.get(
    '/api/v1/automation/runs',
    {
      schema: {
        tags,
        summary: 'List automation runs',
        description: 'Filters: `status` (with `__in`), `trigger`, `site_id`, `created_after`, `created_before`.',
        querystring: listQuerySchema(RUN_LIST),
        response: { 200: PageEnvelope(RunSchema) },
      },
      config: { access: 'read' },
    },
    async (request) => sendPage(request, await automation.listRuns(accountContext(request), request.query)),
  );

  app.get(
    '/api/v1/automation/runs/:id',
    {
      schema: { tags, summary: 'One automation run', params: IdParams, response: { 200: Envelope(RunSchema) } },
      config: { access: 'read' },
    },
    async (request, reply) => sendDetail(request, reply, await automation.getRun(accountContext(request), request.params.id)),
  );

  app.get(
    '/api/v1/automation/runs/:id/logs',
    {
      schema: {
        tags,
        summary: "A run's log, a line per step (oldest first)",
        params: IdParams,
        querystring: listQuerySchema(LOG_LIST),
        response: { 200: PageEnvelope(LogSchema) },
      },
      config: { access: 'read' },
    },
    async (request) => sendPage(request, await automation.logs(accountContext(request), request.params.id, request.query)),
  );

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    app.post(
      `/api/v1/automation/runs/:id/${action}`,
      {
        schema: {
          tags,
          summary: { pause: 'Pause a run after the unit in hand', resume: 'Resume a paused run', cancel: 'Cancel a run' }[action],
          description: '`409` naming the current status when the run cannot move so.',
          params: IdParams,
          response: { 200: Envelope(RunSchema) },
        },
        config: { access: 'write', throttle: 'automation' },
      },
      async (request) => ok(request, await automation[action](accountContext(request), request.params.id)),
    );
  }
}
