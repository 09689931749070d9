import { type Static, Type } from 'typebox';
import { DateTime, Id, NullableDateTime, StringEnum, TimestampFields } from '../../core/columns.js';
import { LEDGER_TYPES } from './billing.tables.js';

/** Wire shapes of billing (and of the staff routes that edit billing's reference data). */

const Slug = Type.String({
  minLength: 1,
  maxLength: 120,
  pattern: '^[a-z0-9]+(-[a-z0-9]+)*$',
  description: 'Lowercase letters, digits and dashes.',
});
const Currency = Type.String({ pattern: '^[a-z]{3}$', description: 'ISO 4217 code, lowercase (`usd`).' });
const Cents = Type.Integer({ minimum: 0, maximum: 100_000_000, description: 'Integer minor units (cents).' });
const Count = Type.Integer({ minimum: 0, maximum: 2_000_000_000 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const PlanSchema = Type.Object({
  ...TimestampFields,
  name: Type.String(),
  slug: Type.String(),
  price_cents: Type.Integer(),
  currency: Type.String(),
  interval: StringEnum(['month', 'year'] as const),
  monthly_credits: Type.Integer(),
  max_sites: Type.Integer(),
  max_users: Type.Integer(),
  max_keywords: Type.Integer(),
  features: Type.Array(Type.String()),
  is_active: Type.Boolean(),
});

export const PlanCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 120 }),
    slug: Slug,
    price_cents: Cents,
    currency: Type.Optional(Currency),
    interval: Type.Optional(StringEnum(['month', 'year'] as const)),
    monthly_credits: Count,
    max_sites: Count,
    max_users: Count,
    max_keywords: Count,
    features: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 60 }), { maxItems: 50, uniqueItems: true })),
    is_active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const PackSchema = Type.Object({
  ...TimestampFields,
  name: Type.String(),
  slug: Type.String(),
  credits: Type.Integer(),
  price_cents: Type.Integer(),
  currency: Type.String(),
  is_active: Type.Boolean(),
});

export const PackCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 120 }),
    slug: Slug,
    credits: Type.Integer({ minimum: 1, maximum: 100_000_000 }),
    price_cents: Cents,
    currency: Type.Optional(Currency),
    is_active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const CostSchema = Type.Object({
  ...TimestampFields,
  operation: Type.String(),
  credits: Type.Integer({ description: 'Credits per block of `per_units` units.' }),
  per_units: Type.Integer(),
  unit: Type.String(),
  description: Type.String(),
});

export const CostCreate = Type.Object(
  {
    operation: Type.String({ minLength: 1, maxLength: 60, pattern: '^[a-z][a-z0-9_]*$' }),
    credits: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    per_units: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    unit: Type.String({ minLength: 1, maxLength: 40 }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

export const TransactionSchema = Type.Object({
  ...TimestampFields,
  account_id: Id,
  amount: Type.Integer({ description: 'Positive adds credits, negative takes them.' }),
  type: StringEnum(LEDGER_TYPES),
  balance_after: Type.Integer(),
  operation: Nullable(Type.String()),
  object_type: Nullable(Type.String()),
  object_id: Nullable(Type.Integer()),
  description: Type.String(),
  ref: Type.String({ description: 'The idempotency reference: one ledger row per ref.' }),
});

export const UsageSchema = Type.Object({
  ...TimestampFields,
  account_id: Id,
  operation: Type.String(),
  model: Type.String(),
  tokens_in: Type.Integer(),
  tokens_out: Type.Integer(),
  credits: Type.Integer(),
  cost_micros: Type.Integer({ description: 'Provider cost in millionths of a dollar.' }),
  latency_ms: Type.Integer(),
  ref: Nullable(Type.String()),
  object_type: Nullable(Type.String()),
  object_id: Nullable(Type.Integer()),
});

export const SummaryQuery = Type.Object(
  {
    period: Type.Optional(StringEnum(['day', 'week', 'month'] as const, { description: 'Bucket size (UTC); default day.' })),
    created_after: Type.Optional(Type.String({ format: 'date-time' })),
    created_before: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
export type SummaryQuery = Static<typeof SummaryQuery>;

export const SummarySchema = Type.Object({
  period: StringEnum(['day', 'week', 'month'] as const),
  results: Type.Array(
    Type.Object({
      bucket: DateTime,
      operation: Type.String(),
      calls: Type.Integer(),
      credits: Type.Integer(),
      tokens_in: Type.Integer(),
      tokens_out: Type.Integer(),
      cost_micros: Type.Integer(),
    }),
  ),
});

export const BalanceSchema = Type.Object({ account_id: Id, balance: Type.Integer({ minimum: 0 }) });

export const StatusSchema = Type.Object({
  plan: PlanSchema,
  status: StringEnum(['trialing', 'active', 'past_due', 'canceled'] as const),
  provider: Nullable(Type.Literal('stripe')),
  current_period_start: DateTime,
  current_period_end: NullableDateTime,
  cancel_at_period_end: Type.Boolean(),
  balance: Type.Integer(),
});

export const SessionBody = Type.Object(
  {
    plan: Type.Optional(Type.String({ minLength: 1, maxLength: 120, description: 'A plan slug (subscription).' })),
    credit_pack: Type.Optional(Type.String({ minLength: 1, maxLength: 120, description: 'A credit pack slug (one payment).' })),
    success_url: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })),
    cancel_url: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type SessionBody = Static<typeof SessionBody>;

export const SessionSchema = Type.Object({ id: Type.String(), url: Type.String() });
export const PortalQuery = Type.Object(
  { return_url: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })) },
  { additionalProperties: false },
);
export const PortalSchema = Type.Object({ url: Type.String() });
export const ReceivedSchema = Type.Object({ received: Type.Literal(true) });
