import type { Db } from './db.js';
import { events_events } from './events.tables.js';

/**
 * The events log: `record(tx, ...)` is called by whatever changes something, inside the transaction that makes
 * the change, so the log holds exactly what committed (a rolled-back change leaves no event, a committed one
 * always has its event). The feed is served by the events module.
 */

/** The domain's event types (DOMAIN.md "events"); a module adds its own `<object>.<verb>` beside these. */
export const KNOWN_EVENT_TYPES = [
  'keywords.imported',
  'keywords.clustered',
  'ideas.generated',
  'content.generated',
  'content.approved',
  'content.rejected',
  'content.published',
  'content.optimized',
  'credits.debited',
  'credits.refunded',
  'credits.granted',
  'credits.purchased',
  'credits.adjusted',
  'automation.run.completed',
  // Automation: a site's pipeline runs (queued by run_now or the schedule) and their stages.
  'automation.run.queued',
  'automation.run.started',
  'automation.run.paused',
  'automation.run.resumed',
  'automation.run.cancelled',
  'automation.run.failed',
  'automation.stage.completed',
  'automation_config.updated',
  'webhook.ingested',
  'task.succeeded',
  'task.failed',
  'task.cancelled',
  // Changes made by hand through the API (DOMAIN.md: every action that changes something records an event).
  'account.created',
  'site.created',
  'site.updated',
  'site.deleted',
  'sector.created',
  'sector.updated',
  'sector.deleted',
  'keyword.created',
  'keyword.updated',
  'keyword.deleted',
  'keywords.updated',
  'keywords.deleted',
  'cluster.created',
  'cluster.updated',
  'cluster.deleted',
  'content_idea.created',
  'content_idea.updated',
  'content_idea.deleted',
  'ideas.queued',
  'api_key.created',
  'api_key.rotated',
  'api_key.revoked',
  'member.created',
  'member.invited',
  'member.joined',
  'member.updated',
  'member.role_changed',
  'member.removed',
  'session.revoked',
  'password.changed',
  'settings.updated',
  'prompt.updated',
  'prompt.reset',
  'author_profile.created',
  'author_profile.updated',
  'author_profile.deleted',
  // The writer's images: prompts and files written by its jobs, edits and deletions through the API.
  'images.prompted',
  'images.generated',
  'image.updated',
  'image.deleted',
  // Outgoing webhooks: subscriptions changed through the API or disabled by the server, deliveries sent again.
  'subscription.created',
  'subscription.updated',
  'subscription.deleted',
  'subscription.secret_rotated',
  'subscription.disabled',
  'delivery.redelivered',
] as const;
export type KnownEventType = (typeof KNOWN_EVENT_TYPES)[number];

/** `api`, `worker`, `automation`, or `webhook:<provider>`. */
export type SourceAgent = 'api' | 'worker' | 'automation' | `webhook:${string}`;

export interface EventInput {
  account_id: number;
  /**
   * The site the change belongs to, for site-scoped work (keywords, clusters, ideas, content of one site); null or
   * absent for account-wide changes (members, keys, billing). A caller limited to some sites sees only the events
   * of those sites, so site-scoped work must pass it.
   */
  site_id?: number | null;
  /** Lowercase dotted: `<object>.<past-tense verb>`, e.g. `content.published`. */
  type: KnownEventType | (string & {});
  source_agent: SourceAgent;
  /** The user who caused it, when one did. */
  actor_id?: number | null;
  object_type?: string | null;
  object_id?: number | null;
  /** Never secrets: no key plaintext, hashes, passwords or tokens. */
  payload?: Record<string, unknown>;
}

/** Who made a change through the API: the request context's account, user and API key. */
export interface Caller {
  accountId: number;
  user: { id: number } | null;
  apiKey: { id: number } | null;
  /** Set when an automation run acts as its user (RequestContext.agent); absent for a request. */
  agent?: 'automation';
}

/**
 * An event caused by an API caller: `source_agent` `api` (or `automation` for a run acting as its user), `actor_id`
 * the user (null for an API key, whose id goes in the payload as `api_key_id` so the feed still says which key did it).
 */
export function byCaller(caller: Caller, event: Omit<EventInput, 'account_id' | 'source_agent' | 'actor_id'>): EventInput {
  const payload = caller.apiKey ? { ...event.payload, api_key_id: caller.apiKey.id } : (event.payload ?? {});
  return {
    ...event,
    account_id: caller.accountId,
    source_agent: caller.agent ?? 'api',
    actor_id: caller.user?.id ?? null,
    payload,
  };
}

/**
 * A change of one section of the account's settings (`account`, `ai`, …): `settings.updated` with the names of
 * the fields changed, never their values (they are the account's text, not the feed's).
 */
export function settingsUpdated(caller: Caller, section: string, fields: string[]): EventInput {
  return byCaller(caller, {
    type: 'settings.updated',
    object_type: 'settings',
    object_id: caller.accountId,
    payload: { section, fields: [...fields].sort() },
  });
}

const TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const SOURCE_PATTERN = /^(api|worker|automation|webhook:[a-z0-9_-]+)$/;

/** Checked in code, not on the wire: a bad type or source is a bug in the caller, so it throws a plain Error. */
function check(event: EventInput): void {
  if (!TYPE_PATTERN.test(event.type) || event.type.length > 100) {
    throw new Error(`Event type "${event.type}" is not lowercase dotted <object>.<verb>`);
  }
  if (!SOURCE_PATTERN.test(event.source_agent)) {
    throw new Error(`Event source_agent "${event.source_agent}" is not api, worker, automation or webhook:<provider>`);
  }
}

/** Appends events in the caller's transaction; returns their ids. */
export async function record(tx: Db, ...events: EventInput[]): Promise<number[]> {
  if (events.length === 0) return [];
  for (const event of events) check(event);
  const rows = await tx
    .insert(events_events)
    .values(
      events.map((e) => ({
        account_id: e.account_id,
        site_id: e.site_id ?? null,
        type: e.type,
        source_agent: e.source_agent,
        actor_id: e.actor_id ?? null,
        object_type: e.object_type ?? null,
        object_id: e.object_id ?? null,
        payload: e.payload ?? {},
      })),
    )
    .returning({ id: events_events.id });
  return rows.map((r) => r.id);
}
