import { sql } from 'drizzle-orm';
import pg from 'pg';
import type { Database, Db } from './db.js';
import type { Logger } from './logger.js';

/**
 * "This account's rows of table T changed", heard by every process on the database, from one source: a
 * statement-level trigger on every table (per account where the table has an `account_id` column, for every
 * account otherwise) calls `pg_notify` in the writing transaction, so the notification goes out when (and only if) the write commits, whatever wrote it (a route,
 * an import, a job, a bulk action, a cascade from a deleted site or account, a hand-typed `psql` statement).
 * A new write path cannot forget it, and a new table gets its triggers at the next start (`installChangeTriggers`
 * runs after the migrations).
 *
 * Each process listens on one channel: on Postgres a connection of its own (`LISTEN`), on PGlite the database's
 * own listener (PGlite hands notifications over as the committing statement returns, so the writing process
 * has heard of its write before its transaction's promise resolves). What listens here keeps caches that must
 * never outlive a write: the lists' counts (core/read-cache.ts), the credential caches.
 *
 * Exactness across processes: `barrier()` resolves once every notification of a transaction that committed before
 * the call has been delivered here (a round trip on the listening connection: Postgres sends a backend's pending
 * notifications before its answer to the next query). A cache that checks its entry after a barrier serves
 * nothing older than the last write committed before the request arrived. While the listening connection is down,
 * `live` is false, every subscriber's `onReset` runs (drop everything) and caches must not serve until it is back.
 */

export const CHANGES_CHANNEL = 'cf_changes';
const TRIGGER_PREFIX = 'cf_changes_';

/** The accounts whose rows changed, or `null` for every account (a truncate, or too many to name). */
export type ChangedAccounts = number[] | null;
type Listener = (accounts: ChangedAccounts) => void;

export interface Changes {
  /** True while notifications are being heard; caches serve only then. */
  readonly live: boolean;
  /** The tables whose writes notify per account (an `account_id` column and its triggers), known once started. */
  readonly tracked: ReadonlySet<string>;
  /** Calls `listener` after a committed write to `table`, with the accounts it touched. */
  on(table: string, listener: Listener): () => void;
  /** Calls `listener` after every committed write to any tracked table. */
  onAny(listener: (table: string, accounts: ChangedAccounts) => void): () => void;
  /** Calls `listener` when notifications stop or start again (anything cached may have missed one). */
  onReset(listener: () => void): () => void;
  /** Resolves true once every write committed before the call has been heard; false when not live. */
  barrier(): Promise<boolean>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The trigger functions. On a table with an `account_id` column: the distinct account ids the statement touched
 * (old and new rows of an update: a row may move between accounts), one notification `<table>:<id>,<id>…`
 * (`<table>:*` for a truncate or when the ids would not fit in a notification's 8,000 bytes). On any other table
 * (plans, credit costs, users: rows every account reads): `<table>:*`. Postgres folds identical notifications of
 * one transaction into one. Statement-level, with transition tables: one call per statement whatever its row count.
 */
const TRIGGER_FUNCTIONS = [
  sql.raw(`
CREATE OR REPLACE FUNCTION cf_notify_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  accounts text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT string_agg(DISTINCT account_id::text, ',') INTO accounts FROM cf_new;
  ELSIF TG_OP = 'UPDATE' THEN
    SELECT string_agg(DISTINCT s.account_id::text, ',') INTO accounts
      FROM (SELECT account_id FROM cf_old UNION SELECT account_id FROM cf_new) s;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT string_agg(DISTINCT account_id::text, ',') INTO accounts FROM cf_old;
  ELSE
    accounts := '*';
  END IF;
  IF accounts IS NOT NULL THEN
    IF length(accounts) > 7000 THEN
      accounts := '*';
    END IF;
    PERFORM pg_notify('${CHANGES_CHANNEL}', TG_TABLE_NAME || ':' || accounts);
  END IF;
  RETURN NULL;
END
$fn$`),
  sql.raw(`
CREATE OR REPLACE FUNCTION cf_notify_table_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify('${CHANGES_CHANNEL}', TG_TABLE_NAME || ':*');
  RETURN NULL;
END
$fn$`),
];

/** Triggers of one table, by event (transition tables allow one event per trigger). */
function triggerStatements(table: string, perAccount: boolean): string[] {
  const t = `"${table.replace(/"/g, '""')}"`;
  const name = (event: string) => `"${TRIGGER_PREFIX}${event}"`;
  const fn = `EXECUTE FUNCTION ${perAccount ? 'cf_notify_change' : 'cf_notify_table_change'}()`;
  if (!perAccount) {
    return ['insert', 'update', 'delete', 'truncate'].map(
      (event) => `CREATE TRIGGER ${name(event)} AFTER ${event.toUpperCase()} ON ${t} FOR EACH STATEMENT ${fn}`,
    );
  }
  return [
    `CREATE TRIGGER ${name('insert')} AFTER INSERT ON ${t} REFERENCING NEW TABLE AS cf_new FOR EACH STATEMENT ${fn}`,
    `CREATE TRIGGER ${name('update')} AFTER UPDATE ON ${t} REFERENCING OLD TABLE AS cf_old NEW TABLE AS cf_new FOR EACH STATEMENT ${fn}`,
    `CREATE TRIGGER ${name('delete')} AFTER DELETE ON ${t} REFERENCING OLD TABLE AS cf_old FOR EACH STATEMENT ${fn}`,
    `CREATE TRIGGER ${name('truncate')} AFTER TRUNCATE ON ${t} FOR EACH STATEMENT ${fn}`,
  ];
}

type Rows<T> = { rows: T[] };
type TableTriggers = { table: string; perAccount: boolean; triggers: number; accountTriggers: number };

/**
 * The tables of the public schema, whether they have an `account_id` column, and how many of our triggers they
 * have (and how many of those call the per-account function).
 */
async function publicTables(db: Db): Promise<TableTriggers[]> {
  const result = (await db.execute(sql`
    SELECT c.relname AS table,
           EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attname = 'account_id' AND NOT a.attisdropped) AS per_account,
           (SELECT count(*)::int FROM pg_trigger g
             WHERE g.tgrelid = c.oid AND NOT g.tgisinternal AND g.tgname LIKE ${`${TRIGGER_PREFIX}%`}) AS triggers,
           (SELECT count(*)::int FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid
             WHERE g.tgrelid = c.oid AND NOT g.tgisinternal AND g.tgname LIKE ${`${TRIGGER_PREFIX}%`}
               AND p.proname = 'cf_notify_change') AS account_triggers
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
     WHERE c.relkind = 'r'
     ORDER BY c.relname`)) as unknown as Rows<{
    table: string;
    per_account: boolean;
    triggers: number;
    account_triggers: number;
  }>;
  return result.rows.map((r) => ({
    table: r.table,
    perAccount: r.per_account === true || String(r.per_account) === 't',
    triggers: Number(r.triggers),
    accountTriggers: Number(r.account_triggers),
  }));
}

const complete = (t: TableTriggers) => t.triggers === 4 && t.accountTriggers === (t.perAccount ? 4 : 0);

/**
 * Gives every table of the public schema its change triggers (and the functions they call), leaving the tables
 * that have the right ones alone: run after the migrations, under their lock, so a table added by a later
 * migration (or given an `account_id` column) notifies from its first write without anyone remembering to.
 */
export async function installChangeTriggers(db: Db): Promise<void> {
  const missing = (await publicTables(db)).filter((t) => !complete(t));
  if (missing.length === 0) return;
  await db.transaction(async (tx) => {
    for (const fn of TRIGGER_FUNCTIONS) await tx.execute(fn);
    for (const { table, perAccount } of missing) {
      for (const event of ['insert', 'update', 'delete', 'truncate']) {
        await tx.execute(sql.raw(`DROP TRIGGER IF EXISTS "${TRIGGER_PREFIX}${event}" ON "${table.replace(/"/g, '""')}"`));
      }
      for (const statement of triggerStatements(table, perAccount)) await tx.execute(sql.raw(statement));
    }
  });
}

/** `planner_keywords:3,7` → the table and its accounts (null: all). */
export function parseChange(payload: string): { table: string; accounts: ChangedAccounts } | null {
  const colon = payload.lastIndexOf(':');
  if (colon <= 0) return null;
  const table = payload.slice(0, colon);
  const list = payload.slice(colon + 1);
  if (list === '*') return { table, accounts: null };
  const accounts = list
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n));
  return { table, accounts };
}

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;
/** A barrier not answered by then: the listening connection is taken as lost (the caller reads from the database). */
const BARRIER_TIMEOUT_MS = 3_000;

export function createChanges(deps: { database: Database; log: Logger }): Changes {
  const { database, log } = deps;
  const listeners = new Map<string, Set<Listener>>();
  const resetListeners = new Set<() => void>();
  const anyListeners = new Set<(table: string, accounts: ChangedAccounts) => void>();
  let tracked = new Set<string>();
  let live = false;
  let stopped = false;
  let client: pg.Client | null = null;
  let unlisten: (() => Promise<void>) | null = null;
  let reconnectDelay = RECONNECT_MIN_MS;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let dropListener: () => void = () => {};

  function deliver(payload: string): void {
    const change = parseChange(payload);
    if (!change) return;
    for (const listener of anyListeners) {
      try {
        listener(change.table, change.accounts);
      } catch (error) {
        log.error({ err: error }, 'a change listener failed');
      }
    }
    for (const listener of listeners.get(change.table) ?? []) {
      try {
        listener(change.accounts);
      } catch (error) {
        log.error({ err: error }, 'a change listener failed');
      }
    }
  }

  function reset(): void {
    for (const listener of resetListeners) {
      try {
        listener();
      } catch (error) {
        log.error({ err: error }, 'a change reset listener failed');
      }
    }
  }

  function setLive(value: boolean): void {
    if (live === value) return;
    live = value;
    // Going down: what is cached may miss a change from now on. Coming back: it may have missed some meanwhile.
    reset();
  }

  /** Postgres: a connection of its own that does nothing but listen (and answer barriers). */
  async function connectListener(): Promise<void> {
    const pool = database.pool as pg.Pool;
    const options = pool.options as pg.ClientConfig;
    const own = new pg.Client({
      ...options,
      connectionTimeoutMillis: options.connectionTimeoutMillis || CONNECT_TIMEOUT_MS,
      application_name: 'contentflow-changes',
      // A connection that silently died (no FIN, no RST) is found by TCP keep-alives, and by the barrier's timeout.
      keepAlive: true,
    });
    own.on('notification', (message) => {
      if (message.channel === CHANGES_CHANNEL && message.payload) deliver(message.payload);
    });
    const lost = (error?: Error) => {
      if (client !== own) return;
      client = null;
      setLive(false);
      own.removeAllListeners('notification');
      own.end().catch(() => {});
      if (!stopped) {
        log.warn({ err: error }, 'change notifications lost; lists count every time until they are back');
        scheduleReconnect();
      }
    };
    own.on('error', lost);
    own.on('end', () => lost());
    try {
      await own.connect();
      await own.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (error) {
      own.removeAllListeners('notification');
      await own.end().catch(() => {});
      throw error;
    }
    // Stopped while connecting (a reconnect under way at shutdown): this connection must not outlive the stop.
    if (stopped) {
      own.removeAllListeners('notification');
      await own.end().catch(() => {});
      return;
    }
    dropListener = () => lost(new Error('the barrier got no answer in time'));
    client = own;
    reconnectDelay = RECONNECT_MIN_MS;
    setLive(true);
  }

  function scheduleReconnect(): void {
    if (reconnectTimer || stopped) return;
    const delay = reconnectDelay;
    reconnectDelay = Math.min(reconnectDelay * 2, RECONNECT_MAX_MS);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      connectListener().catch((error) => {
        log.warn({ err: error }, 'could not listen for change notifications; retrying');
        scheduleReconnect();
      });
    }, delay);
    reconnectTimer.unref();
  }

  // Barriers are shared: the round trip on the wire may have been sent before a caller's call, so a caller joins
  // the next one, which starts as soon as that one ends (at most one in flight, at most one waiting).
  let inFlight: Promise<boolean> | null = null;
  let next: Promise<boolean> | null = null;

  function roundTrip(): Promise<boolean> {
    const own = client;
    if (!own || !live) return Promise.resolve(false);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        if (client === own) dropListener();
        resolve(false);
      }, BARRIER_TIMEOUT_MS);
      timer.unref();
    });
    const answered = own.query('SELECT 1').then(
      () => client === own && live,
      () => false,
    );
    const trip = Promise.race([answered, late]).finally(() => clearTimeout(timer));
    inFlight = trip;
    void trip.then(() => {
      if (inFlight === trip) inFlight = null;
    });
    return trip;
  }

  return {
    get live() {
      return live;
    },
    get tracked() {
      return tracked;
    },
    on(table, listener) {
      let set = listeners.get(table);
      if (!set) {
        set = new Set();
        listeners.set(table, set);
      }
      set.add(listener);
      return () => set.delete(listener);
    },
    onAny(listener) {
      anyListeners.add(listener);
      return () => anyListeners.delete(listener);
    },
    onReset(listener) {
      resetListeners.add(listener);
      return () => resetListeners.delete(listener);
    },
    barrier() {
      if (!live) return Promise.resolve(false);
      // PGlite: one connection, notifications delivered as each statement returns: nothing is ever in transit.
      if (database.kind === 'pglite') return Promise.resolve(true);
      if (!inFlight) return roundTrip();
      next ??= inFlight.then(() => {
        next = null;
        return roundTrip();
      });
      return next;
    },
    async start() {
      stopped = false;
      // Reads can be remembered per account only on tables whose notifications name the accounts.
      tracked = new Set((await publicTables(database.db)).filter((t) => complete(t) && t.perAccount).map((t) => t.table));
      if (database.kind === 'pglite') {
        const pglite = database.pglite;
        if (!pglite) throw new Error('PGlite database without its instance');
        unlisten = await pglite.listen(CHANGES_CHANNEL, deliver);
        setLive(true);
        return;
      }
      try {
        await connectListener();
      } catch (error) {
        log.warn({ err: error }, 'could not listen for change notifications; lists count every time until it can');
        scheduleReconnect();
      }
    },
    async stop() {
      stopped = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      reconnectTimer = null;
      setLive(false);
      const own = client;
      client = null;
      if (own) await own.end().catch(() => {});
      if (unlisten) {
        const off = unlisten;
        unlisten = null;
        const pglite = database.pglite;
        if (pglite && !pglite.closed) await off().catch(() => {});
      }
    },
  };
}
