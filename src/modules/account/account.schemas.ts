import { Type } from 'typebox';
import { DateTime, Id, NullableDateTime, StringEnum, TimestampFields } from '../../core/columns.js';
import { API_KEY_SCOPES } from '../../core/tenancy.js';
import { Email, RoleSchema, SiteIds } from '../auth/auth.schemas.js';

export const SettingsSchema = Type.Object({
  id: Id,
  name: Type.String(),
  slug: Type.String(),
  timezone: Type.String(),
  billing_email: Type.Union([Type.String(), Type.Null()]),
  updated_at: DateTime,
});

export const SettingsBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    billing_email: Type.Optional(Type.Union([Email, Type.Null()])),
  },
  { additionalProperties: false },
);

export const InviteBody = Type.Object(
  { email: Email, role: RoleSchema, site_ids: Type.Optional(SiteIds) },
  { additionalProperties: false },
);

export const InvitationSchema = Type.Object({
  ...TimestampFields,
  account_id: Id,
  email: Type.String(),
  role: RoleSchema,
  site_ids: Type.Array(Id),
  invited_by: Type.Union([Id, Type.Null()]),
  expires_at: DateTime,
  accepted_at: NullableDateTime,
  accept_url: Type.String({
    description:
      'Holds the one-time token; valid 7 days. A GET on it shows the invitation; a POST to the same path with `{token}` accepts it.',
  }),
});

export const AcceptQuery = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
export const InvitationPreviewSchema = Type.Object({
  account_name: Type.String(),
  email: Type.String(),
  role: RoleSchema,
  expires_at: DateTime,
  existing_user: Type.Boolean({
    description: 'true: sign in as this email, then accept; false: accept with a password (and a name).',
  }),
});

export const AcceptBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200 }),
    password: Type.Optional(Type.String({ maxLength: 128 })),
    first_name: Type.Optional(Type.String({ maxLength: 150 })),
    last_name: Type.Optional(Type.String({ maxLength: 150 })),
  },
  { additionalProperties: false },
);

const Scope = StringEnum(API_KEY_SCOPES);

export const ApiKeySchema = Type.Object({
  ...TimestampFields,
  account_id: Id,
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it by.' }),
  scopes: Type.Array(Scope),
  site_id: Type.Union([Id, Type.Null()]),
  expires_at: NullableDateTime,
  last_used_at: NullableDateTime,
});

export const CreatedApiKeySchema = Type.Object({
  ...ApiKeySchema.properties,
  key: Type.String({ description: 'The key itself: shown this once, never again.' }),
});

export const ApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 120 }),
    scopes: Type.Optional(Type.Array(Scope, { minItems: 1, uniqueItems: true })),
    site_id: Type.Optional(Type.Union([Id, Type.Null()])),
    expires_at: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
  },
  { additionalProperties: false },
);
