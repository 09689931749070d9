import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { acceptedTask, Envelope, sendAccepted } from '../../core/envelope.js';
import { accountContext } from '../../core/tenancy.js';
import { GenerateContentBody, GenerationAccepted } from './writer.generate.schemas.js';
import type { WriterGenerateService } from './writer.generate.service.js';
import { MAX_GENERATE_TASKS } from './writer.jobs.js';

/** `POST /api/v1/writer/tasks/auto_generate_content/`: articles for writer tasks, in the background. */
export async function writerGenerateRoutes(fastify: FastifyInstance, deps: { writerGenerate: WriterGenerateService }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/v1/writer/tasks/auto_generate_content',
    {
      schema: {
        tags: ['writer'],
        summary: 'Write articles for writer tasks with AI',
        description:
          `For each of your tasks among \`ids\` (at most ${MAX_GENERATE_TASKS}; each \`queued\` or \`failed\`, else \`409\` naming them), ` +
          "an article written from the task, its idea's outline, its cluster's keywords, its author profile and your AI settings and `content` prompt, " +
          'stored as a `draft` with its provenance, in the background (`202` with the task; progress per article). ' +
          `Targets above 1,500 words are written section by section. Costs \`content_generation\`: ceil(target words / 100) credits per article, ` +
          'charged as each article is stored; `402` up front when the balance cannot cover them all, `503` when no AI provider is configured.',
        body: GenerateContentBody,
        response: { 202: Envelope(GenerationAccepted) },
      },
      config: { access: 'write', throttle: 'ai', errors: ['conflict', 'insufficient_credits', 'service_unavailable'] },
    },
    async (request, reply) => {
      const { task, credits, skipped } = await deps.writerGenerate.startGeneration(accountContext(request), request.body);
      return sendAccepted(request, reply, { ...acceptedTask(task), credits_estimated: credits, skipped });
    },
  );
}
