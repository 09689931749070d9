import { Type } from 'typebox';
import { DateTime, Id } from '../../core/columns.js';

export const EventSchema = Type.Object(
  {
    id: Id,
    site_id: Type.Union([Type.Integer(), Type.Null()], {
      description: 'The site of site-scoped work; null for account-wide changes (seen only by callers who reach every site).',
    }),
    type: Type.String({ description: 'What happened, `<object>.<verb>`: `content.published`, `credits.debited`, ...' }),
    source_agent: Type.String({ description: '`api`, `worker`, `automation` or `webhook:<provider>`.' }),
    actor_id: Type.Union([Type.Integer(), Type.Null()], { description: 'The user who caused it, if one did.' }),
    object_type: Type.Union([Type.String(), Type.Null()]),
    object_id: Type.Union([Type.Integer(), Type.Null()]),
    payload: Type.Record(Type.String(), Type.Unknown()),
    created_at: DateTime,
  },
  { $id: 'Event', title: 'Event' },
);
