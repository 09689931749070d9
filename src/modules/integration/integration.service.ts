import { randomBytes } from 'node:crypto';
import type { Db } from '../../core/db.js';
import { acceptedTask } from '../../core/envelope.js';
import { conflict, fieldError, notFound, validationError } from '../../core/errors.js';
import { byCaller, record } from '../../core/events.js';
import type { Jobs } from '../../core/jobs.js';
import type { ListQuery } from '../../core/lists.js';
import { addressProblem } from '../../core/public-network.js';
import { assertIfMatch, type ScopedContext } from '../../core/resource.js';
import { type SecretBox, SecretUnreadable } from '../../core/secrets.js';
import type { SiteAccess } from '../../core/tenancy.js';
import { type CheckOutcome, checkWebhook, checkWordPress, unreadableSecret } from './integration.check.js';
import * as repo from './integration.repository.js';
import { integrationOfSite } from './integration.repository.js';
import type { IntegrationCreate, IntegrationUpdate, SyncRequest } from './integration.schemas.js';
import type { IntegrationStatus } from './integration.tables.js';
import {
  createWordPressClient,
  discoverRestRoot,
  type WordPressClient,
  WordPressError,
  type WordPressTransport,
} from './integration.wordpress.js';

export type { WordPressClient, WordPressRequest, WordPressResponse } from './integration.wordpress.js';
export { WordPressError } from './integration.wordpress.js';

/** What each stored secret is bound to (the additional data of its ciphertext): its row and its purpose. */
export const secretBinding = (integrationId: number, purpose: 'credentials' | 'webhook_secret') =>
  `integration:${integrationId}:${purpose}`;

/** A site's usable WordPress connection: a client with the decrypted application password. */
export interface WordPressConnection {
  integrationId: number;
  baseUrl: string;
  client: WordPressClient;
}

/** Why a site has no usable connection, in words a user can act on. */
export class ConnectionUnavailable extends Error {}

/**
 * How other modules (the publisher) reach a site's destination: wired in modules.ts. Credentials are decrypted
 * here and handed over only inside the client, never as text.
 */
export interface SiteConnections {
  /** Throws ConnectionUnavailable when the site has no WordPress integration or it cannot be used. */
  wordpress(accountId: number, siteId: number): Promise<WordPressConnection>;
}

/** The client of a stored WordPress integration (its application password decrypted only into the client). */
export async function connectionOf(
  row: repo.IntegrationRow,
  secrets: SecretBox,
  transport: WordPressTransport,
): Promise<WordPressConnection> {
  if (row.credentials === null) {
    throw new ConnectionUnavailable(`the site's WordPress integration ${row.id} has no application password`);
  }
  let applicationPassword: string;
  try {
    applicationPassword = secrets.decrypt(row.credentials, secretBinding(row.id, 'credentials'));
  } catch (error) {
    if (error instanceof SecretUnreadable) {
      throw new ConnectionUnavailable(`the WordPress integration's credentials cannot be read: ${error.message}; set them again`);
    }
    throw error;
  }
  // Found when the integration was made or checked; an older row is discovered now.
  const restRoot = row.rest_root ?? (await discoverRestRoot(row.base_url, transport)).restRoot;
  return {
    integrationId: row.id,
    baseUrl: row.base_url,
    client: createWordPressClient({ restRoot, credentials: { username: row.username, applicationPassword }, ...transport }),
  };
}

export function createSiteConnections(deps: { db: Db; secrets: SecretBox; transport: WordPressTransport }): SiteConnections {
  return {
    async wordpress(accountId, siteId) {
      const row = await integrationOfSite(deps.db, accountId, siteId, 'wordpress');
      if (row === null) throw new ConnectionUnavailable('the site has no WordPress integration (integration/integrations/)');
      if (row.status === 'disabled') throw new ConnectionUnavailable(`the site's WordPress integration ${row.id} is disabled`);
      return connectionOf(row, deps.secrets, deps.transport);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// The integrations resource

/** A row on the wire: the ciphertexts never leave, only whether each is there. */
export function presentIntegration(row: repo.IntegrationRow) {
  const { credentials, webhook_secret, ...rest } = row;
  return { ...rest, has_credentials: credentials !== null, has_webhook_secret: webhook_secret !== null };
}
export type IntegrationView = ReturnType<typeof presentIntegration>;

const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;
const trimUrl = (url: string) => url.trim().replace(/\/+$/, '');

export interface IntegrationServiceDeps {
  db: Db;
  jobs: Jobs;
  secrets: SecretBox;
  siteAccess: SiteAccess;
  /** How remote sites are reached (discovery, checks): the timeout and the fetch that keeps to public addresses. */
  transport: WordPressTransport;
  /** INTEGRATION_ALLOW_PRIVATE: whether a `base_url` may name a private, loopback or reserved address. */
  allowPrivate: boolean;
}

export function createIntegrationService(deps: IntegrationServiceDeps) {
  const { db, secrets, transport } = deps;

  async function own(tx: Db, ctx: ScopedContext, id: number, lock = false): Promise<repo.IntegrationRow> {
    const row = await repo.integrationById(tx, ctx.accountId, id, ctx.siteIds, lock);
    if (!row) throw notFound('Integration');
    return row;
  }

  const event = (ctx: ScopedContext, verb: string, row: repo.IntegrationRow, payload: Record<string, unknown> = {}) =>
    byCaller(ctx, {
      type: `integration.${verb}`,
      object_type: 'integration',
      object_id: row.id,
      site_id: row.site_id,
      payload: { platform: row.platform, base_url: row.base_url, ...payload },
    });

  /** A 400 on `base_url` when it names an address the server must not call (core/public-network.ts). */
  async function checkAddress(baseUrl: string): Promise<void> {
    const problem = await addressProblem(baseUrl, deps.allowPrivate);
    if (problem) throw fieldError('base_url', `${problem} Set INTEGRATION_ALLOW_PRIVATE on the server to allow one.`);
  }

  /** The REST root of a WordPress address, or a 400 on `base_url` saying what was found there. */
  async function restRootOf(baseUrl: string): Promise<string> {
    try {
      return (await discoverRestRoot(baseUrl, transport)).restRoot;
    } catch (error) {
      if (error instanceof WordPressError) throw fieldError('base_url', `No WordPress REST API here: ${error.message}`);
      throw error;
    }
  }

  function decryptCredentials(row: repo.IntegrationRow): string | null {
    if (row.credentials === null) return null;
    return secrets.decrypt(row.credentials, secretBinding(row.id, 'credentials'));
  }

  return {
    list: async (ctx: ScopedContext, query: ListQuery) => {
      const page = await repo.listIntegrations(db, ctx.accountId, ctx.siteIds, query);
      return { ...page, results: page.results.map(presentIntegration) };
    },

    get: async (ctx: ScopedContext, id: number) => presentIntegration(await own(db, ctx, id)),

    /**
     * A site's connection: one per platform (409 for a second). A WordPress address is checked for a REST API
     * first (400 on `base_url` otherwise); the application password and a new webhook secret are encrypted
     * bound to the new row, and the secret is answered this once.
     */
    async create(ctx: ScopedContext, body: IntegrationCreate) {
      const baseUrl = trimUrl(body.base_url);
      if (body.credentials !== undefined && !body.username?.trim()) {
        throw fieldError('username', 'The WordPress user of the application password is required with credentials.');
      }
      const siteErrors = await deps.siteAccess.check(db, ctx, body.site_id, null);
      if (siteErrors) throw validationError(siteErrors);
      await checkAddress(baseUrl);
      const restRoot = body.platform === 'wordpress' ? await restRootOf(baseUrl) : null;
      const webhookSecret = newWebhookSecret();
      const row = await db.transaction(async (tx) => {
        if (await integrationOfSite(tx, ctx.accountId, body.site_id, body.platform)) {
          throw conflict(`The site already has a ${body.platform} integration; change or delete that one.`);
        }
        const inserted = await repo
          .insertIntegration(tx, ctx.accountId, {
            site_id: body.site_id,
            platform: body.platform,
            base_url: baseUrl,
            rest_root: restRoot,
            username: body.username?.trim() ?? '',
          })
          .catch((error: unknown) => {
            // A concurrent create got there between the check above and this insert: the same 409.
            if (isUniqueViolation(error))
              throw conflict(`The site already has a ${body.platform} integration; change or delete that one.`);
            throw error;
          });
        const sealed = await repo.updateIntegration(tx, ctx.accountId, inserted.id, {
          credentials:
            body.credentials === undefined ? null : secrets.encrypt(body.credentials, secretBinding(inserted.id, 'credentials')),
          webhook_secret: secrets.encrypt(webhookSecret, secretBinding(inserted.id, 'webhook_secret')),
        });
        await record(tx, event(ctx, 'created', sealed, { site_id: sealed.site_id }));
        return sealed;
      });
      return { ...presentIntegration(row), webhook_secret: webhookSecret };
    },

    /**
     * Changes the address, user, password or status. A new WordPress address is discovered again; a change of
     * what the connection uses clears the last check's error (the next check tells). With `If-Match`, a row
     * changed meanwhile is a 412.
     */
    async update(ctx: ScopedContext, id: number, body: IntegrationUpdate, ifMatch?: string) {
      const before = await own(db, ctx, id);
      const baseUrl = body.base_url === undefined ? undefined : trimUrl(body.base_url);
      if (baseUrl !== undefined && baseUrl !== before.base_url) await checkAddress(baseUrl);
      const restRoot =
        baseUrl !== undefined && baseUrl !== before.base_url && before.platform === 'wordpress'
          ? await restRootOf(baseUrl)
          : undefined;
      return db.transaction(async (tx) => {
        const current = await own(tx, ctx, id, true);
        assertIfMatch(ifMatch, presentIntegration(current));
        const changes: repo.IntegrationChanges = {};
        if (baseUrl !== undefined && baseUrl !== current.base_url) {
          changes.base_url = baseUrl;
          if (restRoot !== undefined) changes.rest_root = restRoot;
        }
        if (body.username !== undefined && body.username.trim() !== current.username) changes.username = body.username.trim();
        if (body.credentials !== undefined) {
          changes.credentials =
            body.credentials === null ? null : secrets.encrypt(body.credentials, secretBinding(id, 'credentials'));
        }
        const connectionChanged = Object.keys(changes).length > 0;
        let status: IntegrationStatus | undefined = body.status;
        if (status === undefined && connectionChanged && current.status === 'error') status = 'active';
        if (status !== undefined && status !== current.status) changes.status = status;
        if (connectionChanged) changes.last_error = null;
        if (Object.keys(changes).length === 0) return presentIntegration(current);
        const row = await repo.updateIntegration(tx, ctx.accountId, id, changes);
        // Names of what changed, never values: the password's ciphertext is not the feed's.
        const fields = Object.keys(changes).filter((field) => field !== 'last_error' && field !== 'rest_root');
        await record(tx, event(ctx, 'updated', row, { fields: fields.sort() }));
        return presentIntegration(row);
      });
    },

    async remove(ctx: ScopedContext, id: number): Promise<void> {
      await db.transaction(async (tx) => {
        const row = await own(tx, ctx, id, true);
        await repo.deleteIntegration(tx, ctx.accountId, id);
        await record(tx, event(ctx, 'deleted', row));
      });
    },

    /** A new webhook secret, answered once; deliveries signed with the old one are refused from now on. */
    async rotateSecret(ctx: ScopedContext, id: number) {
      const webhookSecret = newWebhookSecret();
      const row = await db.transaction(async (tx) => {
        await own(tx, ctx, id, true);
        const updated = await repo.updateIntegration(tx, ctx.accountId, id, {
          webhook_secret: secrets.encrypt(webhookSecret, secretBinding(id, 'webhook_secret')),
        });
        await record(tx, event(ctx, 'secret_rotated', updated));
        return updated;
      });
      return { ...presentIntegration(row), webhook_secret: webhookSecret };
    },

    /**
     * Checks the connection now and keeps what was found: `status` (`active`, or `error` with `last_error`; a
     * disabled one stays disabled), `last_checked_at`, the REST root and `details`.
     */
    async testConnection(ctx: ScopedContext, id: number) {
      const row = await own(db, ctx, id);
      let outcome: CheckOutcome;
      try {
        const password = decryptCredentials(row);
        outcome =
          row.platform === 'wordpress'
            ? await checkWordPress({
                baseUrl: row.base_url,
                credentials: password === null ? null : { username: row.username, applicationPassword: password },
                transport,
              })
            : await checkWebhook({ url: row.base_url, secret: webhookSecretOf(row), transport });
      } catch (error) {
        if (!(error instanceof SecretUnreadable)) throw error;
        // Encrypted under a key this server no longer has (or altered): nothing is sent until it is set again.
        const what = row.platform === 'wordpress' ? 'application password (`credentials`)' : 'webhook secret (`rotate_secret/`)';
        outcome = {
          ...unreadableSecret(),
          message: `The stored ${what} cannot be read (${error.message}): set it again.`,
        };
      }
      const checkedAt = new Date();
      const updated = await db.transaction(async (tx) => {
        const current = await own(tx, ctx, id, true);
        const next = await repo.updateIntegration(tx, ctx.accountId, id, {
          ...reencrypted(current),
          status: current.status === 'disabled' ? 'disabled' : outcome.ok ? 'active' : 'error',
          last_checked_at: checkedAt,
          last_error: outcome.ok ? null : outcome.message,
          ...(outcome.rest_root === null ? {} : { rest_root: outcome.rest_root }),
          details: {
            wordpress_version: outcome.wordpress_version,
            authentication_methods: outcome.authentication_methods,
            user: outcome.user,
            missing_capabilities: outcome.missing_capabilities,
            code: outcome.code,
            checked_at: checkedAt.toISOString(),
          },
        });
        await record(tx, event(ctx, 'tested', next, { ok: outcome.ok, code: outcome.code }));
        return next;
      });
      return { ...outcome, checked_at: checkedAt, integration: presentIntegration(updated) };
    },

    /** Starts the import of the site's categories, tags, posts and pages into `sector_id` (a task: 202). */
    async startSync(ctx: ScopedContext, id: number, body: SyncRequest) {
      return db.transaction(async (tx) => {
        const row = await own(tx, ctx, id);
        if (row.platform !== 'wordpress') throw conflict('Only a WordPress integration can be synced.', row.platform);
        if (row.status === 'disabled') throw conflict('The integration is disabled; turn it back on first.', row.status);
        const errors = await deps.siteAccess.check(tx, ctx, row.site_id, body.sector_id);
        if (errors?.sector_id) throw validationError({ sector_id: errors.sector_id });
        const owner = { accountId: ctx.accountId, actorId: ctx.user?.id ?? null, siteId: row.site_id };
        const task = await deps.jobs.startTask(tx, owner, 'integration.sync', {
          integration_id: row.id,
          sector_id: body.sector_id,
        });
        await record(tx, event(ctx, 'sync_started', row, { task_id: task.id, sector_id: body.sector_id }));
        return acceptedTask(task);
      });
    },
  };

  /**
   * The row's secrets under the current INTEGRATION_KEY when they were sealed with a previous one, so a key
   * retired to INTEGRATION_KEYS_PREVIOUS stops being needed once each integration has been checked.
   */
  function reencrypted(row: repo.IntegrationRow): repo.IntegrationChanges {
    const changes: repo.IntegrationChanges = {};
    for (const purpose of ['credentials', 'webhook_secret'] as const) {
      const sealed = row[purpose];
      if (sealed === null || !secrets.needsReencryption(sealed)) continue;
      try {
        const binding = secretBinding(row.id, purpose);
        changes[purpose] = secrets.encrypt(secrets.decrypt(sealed, binding), binding);
      } catch (error) {
        if (!(error instanceof SecretUnreadable)) throw error;
      }
    }
    return changes;
  }

  function webhookSecretOf(row: repo.IntegrationRow): string | null {
    return row.webhook_secret === null ? null : secrets.decrypt(row.webhook_secret, secretBinding(row.id, 'webhook_secret'));
  }
}
export type IntegrationService = ReturnType<typeof createIntegrationService>;

function isUniqueViolation(error: unknown): boolean {
  let current = error as { code?: string; cause?: unknown } | undefined;
  for (let depth = 0; current && depth < 4; depth++) {
    if (current.code === '23505') return true;
    current = current.cause as typeof current;
  }
  return false;
}
