import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { acceptedTask, Envelope, ok, PageEnvelope, sendAccepted, sendPage } from '../../core/envelope.js';
import { listQuerySchema } from '../../core/lists.js';
import { IdParams, sendDetail } from '../../core/resource.js';
import { accountContext } from '../../core/tenancy.js';
import { RUN_LIST } from './optimizer.repository.js';
import { AnalysisSchema, AnalyzeBody, MAX_OPTIMIZE, OptimizeAccepted, OptimizeBody, RunSchema } from './optimizer.schemas.js';
import type { OptimizerService } from './optimizer.service.js';

const tags = ['optimizer'];

export async function optimizerRoutes(fastify: FastifyInstance, deps: { optimizer: OptimizerService }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { optimizer } = deps;

  app.post(
    '/api/v1/optimizer/analyze',
    {
      schema: {
        tags,
        summary: 'Analyse an article for SEO and readability (rule set v1, no AI, free)',
        description:
          'Either `content_id` (a stored article, with its title, meta fields, slug and site URL; `keyword` overrides its primary keyword) or raw `html` + `keyword` (+ optional `title`, `meta_title`, `meta_description`, `slug`, `site_url`, `content_type`). ' +
          "Answers at once with every check of rule set v1 (Yoast SEO's published English thresholds): `id`, `group`, `status`, `points`, the measured `value` and a `message` saying what to change, " +
          'the SEO score (null without a keyphrase), the readability score and their mean. Checks that need English word lists are `not_applicable` for another language of the account.',
        body: AnalyzeBody,
        response: { 200: Envelope(AnalysisSchema) },
      },
      config: { access: 'read' },
    },
    async (request) => ok(request, await optimizer.analyze(accountContext(request), request.body)),
  );

  app.post(
    '/api/v1/optimizer/optimize',
    {
      schema: {
        tags,
        summary: 'Rewrite articles with AI to raise their score',
        description:
          `For each of your articles among \`content_ids\` (at most ${MAX_OPTIMIZE}), in the background (\`202\` with the task): the model gets the article and its failing checks' messages, ` +
          "its rewrite is sanitised and analysed again, and becomes the article's text (a new version, reason `optimized`) only when it scores higher. Every article's run is recorded at `optimizer/runs/`. " +
          'Costs `optimization`: ceil(words / 500) credits per article, charged once per article; `402` up front when the balance cannot cover them all, `503` when no AI provider is configured.',
        body: OptimizeBody,
        response: { 202: Envelope(OptimizeAccepted) },
      },
      config: { access: 'write', throttle: 'ai', errors: ['insufficient_credits', 'service_unavailable'] },
    },
    async (request, reply) => {
      const { task, credits, skipped } = await optimizer.startOptimize(accountContext(request), request.body);
      return sendAccepted(request, reply, { ...acceptedTask(task), credits_estimated: credits, skipped });
    },
  );

  app.get(
    '/api/v1/optimizer/runs',
    {
      schema: {
        tags,
        summary: 'List optimization runs',
        description:
          'Filters: `content_id` (with `__in`), `applied`, `site_id`, `sector_id`, `task_id`, `created_after`, `created_before`; `ordering` by created_at, score_before, score_after.',
        querystring: listQuerySchema(RUN_LIST),
        response: { 200: PageEnvelope(RunSchema) },
      },
      config: { access: 'read' },
    },
    async (request) => sendPage(request, await optimizer.listRuns(accountContext(request), request.query)),
  );

  app.get(
    '/api/v1/optimizer/runs/:id',
    {
      schema: { tags, summary: 'One optimization run', params: IdParams, response: { 200: Envelope(RunSchema) } },
      config: { access: 'read' },
    },
    async (request, reply) => sendDetail(request, reply, await optimizer.run(accountContext(request), request.params.id)),
  );
}
