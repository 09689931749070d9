import { type Static, Type } from 'typebox';
import { DateTime, Id } from '../../core/columns.js';

const Url = Type.String({
  minLength: 1,
  maxLength: 2000,
  description:
    'The receiver: http or https. Outside WEBHOOK_ALLOW_PRIVATE (off in production), every address the host resolves to must be public.',
});
const EventTypes = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
  minItems: 1,
  maxItems: 50,
  description:
    'Event types to receive: exact (`content.published`) or with `*` as whole segments (`content.*`, `*` for every event).',
});
const Description = Type.String({ maxLength: 500 });

export const SubscriptionSchema = Type.Object(
  {
    id: Id,
    url: Type.String(),
    description: Type.String(),
    event_types: Type.Array(Type.String()),
    is_active: Type.Boolean(),
    disabled_reason: Type.Union([Type.String(), Type.Null()], {
      description: 'Why the server switched it off (a 410 from the receiver, five days of failures); null otherwise.',
    }),
    failing_since: Type.Union([DateTime, Type.Null()], {
      description: 'The first failure since the last success; five days of failures disable the subscription.',
    }),
    previous_secret_expires_at: Type.Union([DateTime, Type.Null()], {
      description: 'After a rotation: until when the previous secret still signs beside the new one.',
    }),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'WebhookSubscription', title: 'WebhookSubscription' },
);

export const SubscriptionWithSecretSchema = Type.Object(
  {
    ...SubscriptionSchema.properties,
    secret: Type.String({
      description: 'The signing secret (`whsec_...`), shown only in this answer: verify `webhook-signature` with it.',
    }),
  },
  { $id: 'WebhookSubscriptionWithSecret', title: 'WebhookSubscriptionWithSecret' },
);

export const CreateSubscriptionBody = Type.Object({
  url: Url,
  event_types: EventTypes,
  description: Type.Optional(Description),
  is_active: Type.Optional(Type.Boolean()),
});
export type CreateSubscriptionBody = Static<typeof CreateSubscriptionBody>;

export const ReplaceSubscriptionBody = Type.Object({
  url: Url,
  event_types: EventTypes,
  description: Type.Optional(Description),
  is_active: Type.Optional(Type.Boolean({ description: 'Turning it back on clears `disabled_reason` and `failing_since`.' })),
});
export const UpdateSubscriptionBody = Type.Partial(ReplaceSubscriptionBody);
export type UpdateSubscriptionBody = Static<typeof UpdateSubscriptionBody>;

export const RotatedSecretSchema = SubscriptionWithSecretSchema;
