import { Type } from 'typebox';
import { DateTime, Id, NullableDateTime, StringEnum, TimestampFields } from '../../core/columns.js';
import { ROLES } from '../../core/tenancy.js';

export const IndustrySchema = Type.Object({
  ...TimestampFields,
  name: Type.String(),
  slug: Type.String(),
  description: Type.String(),
  suggested_sectors: Type.Array(Type.String()),
});

// ---------------------------------------------------------------------------------------------------------
// Identity

export const Email = Type.String({ format: 'email', maxLength: 254 });
/** Length only here; the common-password check is a rule in the service. */
export const Password = Type.String({ minLength: 8, maxLength: 128 });
export const RoleSchema = StringEnum(ROLES);
export const SiteIds = Type.Array(Id, { maxItems: 1000, uniqueItems: true });

export const UserSchema = Type.Object({
  ...TimestampFields,
  email: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  is_active: Type.Boolean(),
  is_staff: Type.Boolean(),
  is_superuser: Type.Boolean(),
  last_login_at: NullableDateTime,
});

export const AccountSchema = Type.Object({
  ...TimestampFields,
  name: Type.String(),
  slug: Type.String(),
  status: StringEnum(['active', 'suspended']),
  plan_id: Id,
  credits: Type.Integer(),
  owner_id: Type.Union([Id, Type.Null()]),
  timezone: Type.String(),
});

export const TokenPairSchema = Type.Object({
  access: Type.String({ description: 'A JWT for `Authorization: Bearer`.' }),
  refresh: Type.String({ description: 'Single use: each refresh returns a new one.' }),
  access_expires_at: DateTime,
  user: UserSchema,
  account: Type.Union([AccountSchema, Type.Null()]),
  session: Type.Optional(Type.Boolean()),
});

export const RegisterBody = Type.Object(
  {
    email: Email,
    password: Password,
    account_name: Type.String({ minLength: 1, maxLength: 200 }),
    first_name: Type.Optional(Type.String({ maxLength: 150 })),
    last_name: Type.Optional(Type.String({ maxLength: 150 })),
  },
  { additionalProperties: false },
);

export const LoginBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 128 }),
    session: Type.Optional(Type.Boolean({ description: 'Also set the `sessionid` cookie.' })),
    account_id: Type.Optional(Id),
  },
  { additionalProperties: false },
);

export const RefreshBody = Type.Object(
  { refresh: Type.String({ minLength: 1, maxLength: 200 }), account_id: Type.Optional(Id) },
  { additionalProperties: false },
);

export const LogoutBody = Type.Object(
  { refresh: Type.Optional(Type.String({ maxLength: 200 })) },
  { additionalProperties: false },
);

export const MembershipSummary = Type.Object({ id: Id, name: Type.String(), slug: Type.String(), role: RoleSchema });

export const ApiKeySummary = Type.Object({
  id: Id,
  prefix: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  site_id: Type.Union([Id, Type.Null()]),
});

export const MeSchema = Type.Object({
  user: Type.Union([UserSchema, Type.Null()]),
  api_key: Type.Optional(ApiKeySummary),
  account: Type.Union([AccountSchema, Type.Null()]),
  role: Type.Union([RoleSchema, Type.Null()]),
  site_ids: Type.Union([Type.Array(Id), Type.Null()], { description: 'null: every site of the account.' }),
  accounts: Type.Array(MembershipSummary),
});

export const SessionSchema = Type.Object({
  id: Id,
  account_id: Type.Union([Id, Type.Null()]),
  user_agent: Type.String(),
  ip: Type.String(),
  created_at: DateTime,
  last_used_at: NullableDateTime,
  expires_at: DateTime,
  current: Type.Boolean(),
});

export const ChangePasswordBody = Type.Object(
  { old_password: Type.String({ minLength: 1, maxLength: 128 }), new_password: Password },
  { additionalProperties: false },
);
export const PasswordResetBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 254 }) },
  { additionalProperties: false },
);
export const PasswordResetConfirmBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200 }), new_password: Password },
  { additionalProperties: false },
);

// ---------------------------------------------------------------------------------------------------------
// Members (auth/users/ and account/team/ show the same people)

export const MemberSchema = Type.Object({
  ...TimestampFields,
  email: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  is_active: Type.Boolean(),
  role: RoleSchema,
  site_ids: Type.Array(Id),
  joined_at: DateTime,
});

export const CreateMemberBody = Type.Object(
  {
    email: Email,
    password: Password,
    role: RoleSchema,
    site_ids: Type.Optional(SiteIds),
    first_name: Type.Optional(Type.String({ maxLength: 150 })),
    last_name: Type.Optional(Type.String({ maxLength: 150 })),
  },
  { additionalProperties: false },
);

export const UpdateMemberBody = Type.Object(
  {
    role: Type.Optional(RoleSchema),
    site_ids: Type.Optional(SiteIds),
    first_name: Type.Optional(Type.String({ maxLength: 150 })),
    last_name: Type.Optional(Type.String({ maxLength: 150 })),
  },
  { additionalProperties: false },
);

// ---------------------------------------------------------------------------------------------------------
// Sites and sectors

const Slug = Type.String({ minLength: 1, maxLength: 200, pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$' });
const Url = Type.String({ maxLength: 500, pattern: '^(https?://[^\\s]+)?$', description: 'http(s) URL, or empty.' });

export const SiteSchema = Type.Object({
  ...TimestampFields,
  account_id: Id,
  name: Type.String(),
  slug: Type.String(),
  url: Type.String(),
  industry: Type.Union([Type.String(), Type.Null()]),
  description: Type.String(),
  is_active: Type.Boolean(),
});

export const SiteBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    slug: Type.Optional(Slug),
    url: Type.Optional(Url),
    industry: Type.Optional(Type.Union([Type.String({ maxLength: 120 }), Type.Null()])),
    description: Type.Optional(Type.String({ maxLength: 5000 })),
    is_active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const SectorSchema = Type.Object({
  ...TimestampFields,
  account_id: Id,
  site_id: Id,
  name: Type.String(),
  slug: Type.String(),
  description: Type.String(),
  is_active: Type.Boolean(),
});

export const SectorBody = Type.Object(
  {
    site_id: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    slug: Type.Optional(Slug),
    description: Type.Optional(Type.String({ maxLength: 5000 })),
    is_active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
