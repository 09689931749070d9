import { type Static, Type } from 'typebox';
import { DateTime, Id, NullableDateTime, StringEnum } from '../../core/columns.js';
import { PUBLISH_DESTINATIONS, PUBLISHING_STATUSES, REMOTE_POST_STATUSES } from './publisher.tables.js';

/** Wire shapes of the publisher's publishing records and its publish action. */

export const MAX_PUBLISH = 50;

export const PublishBody = Type.Object({
  content_ids: Type.Array(Id, {
    minItems: 1,
    maxItems: MAX_PUBLISH,
    description: `Articles to publish (at most ${MAX_PUBLISH}): approved ones, or published ones to update their remote post.`,
  }),
  status: Type.Optional(
    StringEnum(REMOTE_POST_STATUSES, {
      description: 'What the remote post becomes: `publish` (default), `draft`, or `future` (scheduled, with `date`).',
    }),
  ),
  date: Type.Optional(
    Type.String({ format: 'date-time', description: 'With `status: future`: when WordPress publishes it (in the future).' }),
  ),
});
export type PublishRequest = Static<typeof PublishBody>;

export const PublishingRecordSchema = Type.Object({
  id: Id,
  account_id: Id,
  site_id: Id,
  content_id: Id,
  destination: StringEnum(PUBLISH_DESTINATIONS),
  status: StringEnum(PUBLISHING_STATUSES, {
    description: '`pending` → `publishing` → `published` | `failed`; `failed` → `pending` (retry/); `published` → `unpublished`.',
  }),
  remote_status: StringEnum(REMOTE_POST_STATUSES, { description: 'What the remote post was asked to be.' }),
  scheduled_for: NullableDateTime,
  external_id: Type.Union([Type.String(), Type.Null()], { description: "The remote post's id." }),
  external_url: Type.Union([Type.String(), Type.Null()], { description: "The remote post's link, as WordPress answered it." }),
  remote_media: Type.Record(Type.String(), Type.Object({ id: Type.Integer(), url: Type.String() }), {
    description: 'Our image id → the media item WordPress holds for it (each image is uploaded once per record).',
  }),
  error: Type.Union([Type.String(), Type.Null()], {
    description: "Why the last attempt failed (WordPress's own message for its refusals).",
  }),
  attempts: Type.Integer(),
  task_id: Type.Union([Id, Type.Null()], { description: 'The task that publishes (or last published) it.' }),
  published_at: NullableDateTime,
  created_at: DateTime,
  updated_at: DateTime,
});

export const PublishAccepted = Type.Object({
  task_id: Id,
  status: Type.String(),
  record_ids: Type.Array(Id, { description: 'The publishing records the task works on, one per article, in the order asked.' }),
});
