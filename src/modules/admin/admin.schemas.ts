import { type Static, Type } from 'typebox';
import { DateTime, Id, NullableDateTime, StringEnum, TimestampFields } from '../../core/columns.js';
import { PlanSchema } from '../billing/billing.schemas.js';

/** Wire shapes of the staff routes that are admin's own (billing's reference data reuses billing's schemas). */

export const AdminAccountSchema = Type.Object({
  ...TimestampFields,
  name: Type.String(),
  slug: Type.String(),
  status: StringEnum(['active', 'suspended'] as const),
  plan_id: Id,
  plan_slug: Type.Union([Type.String(), Type.Null()]),
  credits: Type.Integer({ description: 'The balance.' }),
});

export const AdminAccountDetailSchema = Type.Object({
  ...AdminAccountSchema.properties,
  ledger_sum: Type.Integer({ description: 'The sum of the ledger; always equals `credits`.' }),
  subscription: Type.Union([
    Type.Object({
      plan: PlanSchema,
      status: Type.String(),
      provider: Type.Union([Type.String(), Type.Null()]),
      current_period_start: DateTime,
      current_period_end: NullableDateTime,
      cancel_at_period_end: Type.Boolean(),
    }),
    Type.Null(),
  ]),
});

export const AdjustBody = Type.Object(
  {
    amount: Type.Integer({
      minimum: -100_000_000,
      maximum: 100_000_000,
      description: 'Credits to add (positive) or take (negative); not 0.',
    }),
    reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why; shown in the ledger.' }),
  },
  { additionalProperties: false },
);
export type AdjustBody = Static<typeof AdjustBody>;

export const AdjustSchema = Type.Object({ account_id: Id, amount: Type.Integer(), balance: Type.Integer() });

export const StatsQuery = Type.Object(
  { days: Type.Optional(Type.Integer({ minimum: 1, maximum: 366, description: 'How many days back; default 30.' })) },
  { additionalProperties: false },
);

export const StatsSchema = Type.Object({
  accounts: Type.Integer(),
  outstanding_credits: Type.Integer({ description: 'The sum of every balance.' }),
  granted_credits: Type.Integer(),
  spent_credits: Type.Integer({ description: 'Usage net of refunds.' }),
  adjusted_credits: Type.Integer(),
  spent_by_day: Type.Array(
    Type.Object({
      day: Type.String({ description: 'YYYY-MM-DD (UTC).' }),
      operation: Type.String(),
      credits: Type.Integer(),
      charges: Type.Integer(),
    }),
  ),
});
