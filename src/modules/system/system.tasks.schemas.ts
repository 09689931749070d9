import { Type } from 'typebox';
import { DateTime, Id, NullableDateTime, StringEnum } from '../../core/columns.js';
import { TASK_STATUSES } from '../../core/tasks.tables.js';

export const TaskStatusSchema = StringEnum(TASK_STATUSES, {
  description: 'queued → running → succeeded | failed | cancelled (a retry goes back to queued).',
});

export const TaskSchema = Type.Object(
  {
    id: Id,
    site_id: Type.Union([Type.Integer(), Type.Null()], {
      description: 'The site the work is for; null for account-wide work (seen only by callers who reach every site).',
    }),
    type: Type.String({ description: 'The job type, e.g. `writer.generate`.' }),
    status: TaskStatusSchema,
    progress: Type.Object({
      current: Type.Number(),
      total: Type.Union([Type.Number(), Type.Null()]),
      message: Type.String(),
    }),
    result: Type.Unknown({ description: 'What the job produced, once succeeded; null before.' }),
    error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()], {
      description: 'Why the last attempt failed (kept while a retry is queued).',
    }),
    cancel_requested: Type.Boolean({ description: 'Cancellation was asked for; a running job stops at its next unit.' }),
    attempts: Type.Integer({ description: 'Runs started so far (retries included).' }),
    started_at: NullableDateTime,
    finished_at: NullableDateTime,
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'Task', title: 'Task' },
);
