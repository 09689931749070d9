import { integer, timestamp } from 'drizzle-orm/pg-core';
import { Type } from 'typebox';

/** The columns every resource has: an integer identity and millisecond timestamps (named as on the wire). */
export const idColumn = () => integer().primaryKey().generatedAlwaysAsIdentity();
export const timestamptz = () => timestamp({ precision: 3, withTimezone: true, mode: 'date' });
export const timestamps = () => ({
  created_at: timestamptz().notNull().defaultNow(),
  updated_at: timestamptz().notNull().defaultNow(),
});

/**
 * Their wire schemas: rows carry Dates, which the serializer writes as ISO 8601 UTC with milliseconds. `Id` is
 * the one id schema of bodies, queries and paths: a positive integer below 2^31 (an int4 identity); anything
 * else is a field error naming the field (a 404 in a path).
 */
export const ID_MAX = 2_147_483_647;
export const Id = Type.Integer({ minimum: 1, maximum: ID_MAX });
export const DateTime = Type.Unsafe<Date | string>(Type.String({ format: 'date-time' }));
export const NullableDateTime = Type.Unsafe<Date | string | null>(
  Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
);
export const TimestampFields = { id: Id, created_at: DateTime, updated_at: DateTime };

/** One of a fixed list of strings (an enum), typed as that union for TypeScript and documented as such. */
export const StringEnum = <const T extends readonly string[]>(values: T, options: { description?: string } = {}) =>
  Type.Unsafe<T[number]>(
    Type.Union(
      values.map((v) => Type.Literal(v)),
      options,
    ),
  );
