import type { Changes } from './changes.js';
import type { Db } from './db.js';

/**
 * Reads remembered until the rows they read change: a value (a list's exact count, a detail row) is kept per
 * (table, account, key) and forgotten when that account's rows of that table change (core/changes.ts: a trigger's
 * notification, heard by every process, the writing one as soon as its transaction commits).
 *
 * A remembered value is served only after a barrier (every write committed before the request arrived has been
 * heard by then) and only if it was not forgotten meanwhile; a value read from a snapshot that a write overtook is
 * not stored (each (table, account) has a generation, bumped by every change, read before the read and checked
 * before storing). While notifications are not heard, nothing is stored or served.
 */

export interface ReadToken {
  readonly epoch: number;
  readonly tableEpoch: number;
  readonly generation: number;
}

export interface ReadCache<V> {
  /** Whether reads of this table can be remembered (it notifies its changes and notifications are heard). */
  covers(table: string): boolean;
  /** The remembered value, or undefined. */
  get(table: string, accountId: number, key: string): V | undefined;
  /** What `store` checks: taken before the value is read. */
  token(table: string, accountId: number): ReadToken;
  /** Remembers a value read after `token` was taken, unless a change came in between. */
  store(table: string, accountId: number, key: string, value: V, token: ReadToken): void;
  /** Resolves true once writes committed before the call have been heard (see core/changes.ts). */
  barrier(): Promise<boolean>;
  /** How many values are remembered (tests, metrics). */
  size(): number;
  clear(): void;
}

/**
 * `max`: at most this many values in all; past it the cache starts over (cheap, and a full cache is a rare shape).
 */
export function createReadCache<V>(changes: Changes, options: { max: number }): ReadCache<V> {
  /** table → account → key → value */
  const counts = new Map<string, Map<number, Map<string, V>>>();
  /** `${table}:${account}` → generation */
  const generations = new Map<string, number>();
  /** table → generation of every account's rows (a change that names no account) */
  const tableEpochs = new Map<string, number>();
  let epoch = 0;
  let entries = 0;

  const MAX_ENTRIES = options.max;
  function clear(): void {
    counts.clear();
    generations.clear();
    tableEpochs.clear();
    entries = 0;
    epoch++;
  }

  function forget(table: string, accounts: number[] | null): void {
    const byAccount = counts.get(table);
    if (accounts === null) {
      if (byAccount) for (const keys of byAccount.values()) entries -= keys.size;
      counts.delete(table);
      tableEpochs.set(table, (tableEpochs.get(table) ?? 0) + 1);
      return;
    }
    for (const account of accounts) {
      const keys = byAccount?.get(account);
      if (keys) {
        entries -= keys.size;
        byAccount?.delete(account);
      }
      const id = `${table}:${account}`;
      generations.set(id, (generations.get(id) ?? 0) + 1);
    }
  }

  changes.onReset(clear);
  changes.onAny(forget);

  return {
    covers(table) {
      return changes.live && changes.tracked.has(table);
    },
    get(table, accountId, key) {
      if (!changes.live) return undefined;
      return counts.get(table)?.get(accountId)?.get(key);
    },
    token(table, accountId) {
      return {
        epoch,
        tableEpoch: tableEpochs.get(table) ?? 0,
        generation: generations.get(`${table}:${accountId}`) ?? 0,
      };
    },
    store(table, accountId, key, value, token) {
      if (!changes.live || token.epoch !== epoch || (tableEpochs.get(table) ?? 0) !== token.tableEpoch) return;
      if ((generations.get(`${table}:${accountId}`) ?? 0) !== token.generation) return;
      if (entries >= MAX_ENTRIES || generations.size >= MAX_ENTRIES * 5) {
        clear();
        return;
      }
      let byAccount = counts.get(table);
      if (!byAccount) {
        byAccount = new Map();
        counts.set(table, byAccount);
      }
      let keys = byAccount.get(accountId);
      if (!keys) {
        keys = new Map();
        byAccount.set(accountId, keys);
      }
      if (!keys.has(key)) entries++;
      keys.set(key, value);
    },
    barrier: () => changes.barrier(),
    size: () => entries,
    clear,
  };
}

/** What a database handle's reads remember: lists' counts, and detail rows (core/resource.ts). */
export interface ReadCaches {
  counts: ReadCache<number>;
  /** A list's page with its count, per conditions, ordering, size and offset. */
  pages: ReadCache<{ total: number; rows: readonly Record<string, unknown>[] }>;
  rows: ReadCache<Record<string, unknown>>;
}

/**
 * The caches serving a database handle. Registered for the app's own handle only: a transaction is another
 * handle, so a read inside a transaction (which may see its own uncommitted writes) always goes to the database.
 */
const caches = new WeakMap<object, ReadCaches>();

export function createReadCaches(changes: Changes): ReadCaches {
  return {
    counts: createReadCache<number>(changes, { max: 20_000 }),
    pages: createReadCache(changes, { max: 2_000 }),
    rows: createReadCache<Record<string, unknown>>(changes, { max: 20_000 }),
  };
}

export function attachReadCaches(db: Db, readCaches: ReadCaches): void {
  caches.set(db, readCaches);
}

export const countCacheOf = (db: Db): ReadCache<number> | undefined => caches.get(db)?.counts;
export const pageCacheOf = (db: Db): ReadCaches['pages'] | undefined => caches.get(db)?.pages;
export const rowCacheOf = (db: Db): ReadCache<Record<string, unknown>> | undefined => caches.get(db)?.rows;
