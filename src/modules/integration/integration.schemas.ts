import { type Static, Type } from 'typebox';
import { DateTime, Id, NullableDateTime, StringEnum, TimestampFields } from '../../core/columns.js';
import { INTEGRATION_PLATFORMS, INTEGRATION_STATUSES } from './integration.tables.js';

/** Wire shapes of the integration module: site integrations, their checks and syncs, incoming webhooks. */

const NullableString = Type.Union([Type.String(), Type.Null()]);

/** http or https only: a WordPress site or a webhook receiver, never `file:`, `ftp:` or a bare host. */
const BaseUrl = Type.String({
  minLength: 1,
  maxLength: 500,
  pattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#]+[^\\s]*$',
  description: "The site's address (http or https), e.g. `https://blog.example.com`.",
});
const Username = Type.String({ maxLength: 200, description: 'The WordPress user the application password belongs to.' });
const Credentials = Type.String({
  minLength: 1,
  maxLength: 500,
  description:
    'Write-only: a WordPress application password (spaces as wp-admin shows them are fine). Encrypted at rest (AES-256-GCM) and never returned.',
});

export const IntegrationSchema = Type.Object({
  ...TimestampFields,
  account_id: Id,
  site_id: Id,
  platform: StringEnum(INTEGRATION_PLATFORMS),
  base_url: Type.String(),
  rest_root: Type.Union([Type.String(), Type.Null()], {
    description: 'The WordPress REST root found from `base_url` (`…/wp-json/` or `…/?rest_route=/`).',
  }),
  username: Type.String(),
  has_credentials: Type.Boolean({ description: 'Whether an application password is stored (it is never shown).' }),
  has_webhook_secret: Type.Boolean(),
  status: StringEnum(INTEGRATION_STATUSES),
  last_checked_at: NullableDateTime,
  last_error: NullableString,
  last_synced_at: NullableDateTime,
  details: Type.Record(Type.String(), Type.Unknown(), {
    description: 'What the last `test_connection/` found: WordPress version, user, capabilities, authentication methods.',
  }),
});
export type Integration = Static<typeof IntegrationSchema>;

export const IntegrationWithSecretSchema = Type.Object({
  ...IntegrationSchema.properties,
  webhook_secret: Type.String({
    description: 'Signs incoming webhooks (`X-Signature: sha256=<hex HMAC of the raw body>`). Shown only in this answer.',
  }),
});

export const IntegrationCreateBody = Type.Object({
  site_id: Id,
  platform: StringEnum(INTEGRATION_PLATFORMS),
  base_url: BaseUrl,
  username: Type.Optional(Username),
  credentials: Type.Optional(Credentials),
});
export type IntegrationCreate = Static<typeof IntegrationCreateBody>;

export const IntegrationUpdateBody = Type.Object(
  {
    base_url: Type.Optional(BaseUrl),
    username: Type.Optional(Username),
    credentials: Type.Optional(Type.Union([Credentials, Type.Null()], { description: 'null removes the stored password.' })),
    status: Type.Optional(
      StringEnum(['active', 'disabled'] as const, {
        description: '`disabled` stops publishing through it; `active` turns it back on (`error` is set by checks).',
      }),
    ),
  },
  { additionalProperties: false },
);
export type IntegrationUpdate = Static<typeof IntegrationUpdateBody>;

export const ConnectionCheckSchema = Type.Object({
  ok: Type.Boolean(),
  code: Type.Union(
    [
      StringEnum([
        'authentication_failed',
        'application_passwords_unavailable',
        'missing_capabilities',
        'unreachable',
        'not_wordpress',
        'http_error',
        'no_credentials',
      ] as const),
      Type.Null(),
    ],
    { description: 'Why the connection cannot be used; null when it can.' },
  ),
  message: Type.String({ description: 'What was found, and the fix when there is one (also kept in `last_error`).' }),
  rest_root: NullableString,
  wordpress_version: NullableString,
  authentication_methods: Type.Array(Type.String(), { description: "What the REST index's `authentication` advertises." }),
  user: Type.Union([Type.Object({ id: Type.Integer(), username: Type.String(), roles: Type.Array(Type.String()) }), Type.Null()]),
  credentials_seen: Type.Union([Type.Boolean(), Type.Null()], {
    description:
      'false when WordPress answered as if no credentials were sent (a wrong password on WordPress versions that report it so, or a server stripping the Authorization header).',
  }),
  required_capabilities: Type.Array(Type.String()),
  missing_capabilities: Type.Array(Type.String()),
  checked_at: DateTime,
  integration: IntegrationSchema,
});
export type ConnectionCheck = Static<typeof ConnectionCheckSchema>;

export const SyncBody = Type.Object({
  sector_id: Id,
});
export type SyncRequest = Static<typeof SyncBody>;

export const WebhookParams = Type.Object({
  provider: Type.String({ pattern: '^[a-z0-9_-]{1,50}$', description: 'Who sends the events, e.g. `wordpress`.' }),
});
export const WebhookQuery = Type.Object({
  integration: Type.Optional({ ...Id, description: 'The integration id, when the sender cannot set `X-Integration-Id`.' }),
});
export const ReceivedSchema = Type.Object({ received: Type.Literal(true) });
