import { Type } from 'typebox';
import { DateTime, Id, StringEnum } from '../../core/columns.js';
import { DELIVERY_STATUSES } from './events.tables.js';

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const DeliverySchema = Type.Object(
  {
    id: Id,
    subscription_id: Id,
    event_id: Id,
    event_type: Type.String(),
    status: StringEnum(DELIVERY_STATUSES, {
      description: '`pending` (an attempt to come), `succeeded` (a 2xx answer), `failed` (retries used up, a 410, or disabled).',
    }),
    attempts: Type.Integer({ minimum: 0 }),
    next_attempt_at: Type.Union([DateTime, Type.Null()], { description: 'When a pending delivery is next attempted.' }),
    last_response_code: Nullable(Type.Integer()),
    last_error: Nullable(Type.String()),
    delivered_at: Type.Union([DateTime, Type.Null()]),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'WebhookDelivery', title: 'WebhookDelivery' },
);

export const AttemptSchema = Type.Object(
  {
    attempt: Type.Integer({ minimum: 1 }),
    succeeded: Type.Boolean(),
    response_code: Nullable(Type.Integer()),
    response_body: Type.Union([Type.String({ description: "The first 2 KiB of the receiver's answer." }), Type.Null()]),
    latency_ms: Type.Integer({ minimum: 0 }),
    error: Type.Union([
      Type.String({ description: 'Why no answer counted: refused, timed out, an address refused.' }),
      Type.Null(),
    ]),
    created_at: DateTime,
  },
  { $id: 'WebhookDeliveryAttempt', title: 'WebhookDeliveryAttempt' },
);

export const DeliveryDetailSchema = Type.Object(
  { ...DeliverySchema.properties, attempt_log: Type.Array(AttemptSchema, { description: 'Every attempt, first first.' }) },
  { $id: 'WebhookDeliveryDetail', title: 'WebhookDeliveryDetail' },
);
