import { type Static, Type } from 'typebox';
import { Id } from '../../core/columns.js';
import { MAX_GENERATE_TASKS } from './writer.jobs.js';

/** Wire shapes of article generation (`writer/tasks/auto_generate_content/`). */

export const GenerateContentBody = Type.Object({
  ids: Type.Array(Id, {
    minItems: 1,
    maxItems: MAX_GENERATE_TASKS,
    description: `Writer tasks to write articles for, at most ${MAX_GENERATE_TASKS} per request (the articles are written one after the other in one task).`,
  }),
});
export type GenerateContent = Static<typeof GenerateContentBody>;

export const GenerationAccepted = Type.Object({
  task_id: Id,
  status: Type.String(),
  /** What the request reserved: the sum over the articles of ceil(target words / 100). */
  credits_estimated: Type.Integer({
    description: 'Credits the articles will cost: ceil(target words / 100) each, charged as each is stored.',
  }),
  skipped: Type.Array(Type.Integer(), {
    description: "Ids asked for that were ignored: not found, or not the caller's (or out of the caller's sites).",
  }),
});
