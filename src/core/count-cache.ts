import type { Changes } from './changes.js';
import type { Db } from './db.js';

/**
 * Exact list counts without counting on every request: a count is remembered per (account, table, the list's
 * normalised conditions) and forgotten when that account's rows of that table change (core/changes.ts: a
 * trigger's notification, heard by every process, the writing one as soon as its transaction commits).
 *
 * A remembered count is served only after a barrier (every write committed before the request arrived has been
 * heard by then) and only if it was not forgotten meanwhile; a count computed from a snapshot that a write
 * overtook is not stored (each (table, account) has a generation, bumped by every change, read before the count
 * and checked before storing it). While notifications are not heard, nothing is stored or served.
 */

export interface CountToken {
  readonly epoch: number;
  readonly generation: number;
}

export interface CountCache {
  /** Whether counts of this table can be remembered (it notifies its changes and notifications are heard). */
  covers(table: string): boolean;
  /** The remembered count, or undefined. */
  get(table: string, accountId: number, key: string): number | undefined;
  /** What `store` checks: taken before the count is computed. */
  token(table: string, accountId: number): CountToken;
  /** Remembers a count computed after `token` was taken, unless a change came in between. */
  store(table: string, accountId: number, key: string, count: number, token: CountToken): void;
  /** Resolves true once writes committed before the call have been heard (see core/changes.ts). */
  barrier(): Promise<boolean>;
  /** How many counts are remembered (tests, metrics). */
  size(): number;
  clear(): void;
}

/** At most this many counts in all; past it the cache starts over (cheap, and a full cache is a rare shape). */
const MAX_ENTRIES = 20_000;

export function createCountCache(changes: Changes): CountCache {
  /** table → account → key → count */
  const counts = new Map<string, Map<number, Map<string, number>>>();
  /** `${table}:${account}` → generation */
  const generations = new Map<string, number>();
  let epoch = 0;
  let entries = 0;
  const subscribed = new Set<string>();

  function clear(): void {
    counts.clear();
    generations.clear();
    entries = 0;
    epoch++;
  }

  function forget(table: string, accounts: number[] | null): void {
    const byAccount = counts.get(table);
    if (accounts === null) {
      if (byAccount) for (const keys of byAccount.values()) entries -= keys.size;
      counts.delete(table);
      // Every account's generation of this table: simplest to move the epoch, which every token carries.
      epoch++;
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

  function subscribe(table: string): void {
    if (subscribed.has(table)) return;
    subscribed.add(table);
    changes.on(table, (accounts) => forget(table, accounts));
  }

  return {
    covers(table) {
      if (!changes.live || !changes.tracked.has(table)) return false;
      subscribe(table);
      return true;
    },
    get(table, accountId, key) {
      if (!changes.live) return undefined;
      return counts.get(table)?.get(accountId)?.get(key);
    },
    token(table, accountId) {
      return { epoch, generation: generations.get(`${table}:${accountId}`) ?? 0 };
    },
    store(table, accountId, key, count, token) {
      if (!changes.live || token.epoch !== epoch) return;
      if ((generations.get(`${table}:${accountId}`) ?? 0) !== token.generation) return;
      if (entries >= MAX_ENTRIES) clear();
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
      keys.set(key, count);
    },
    barrier: () => changes.barrier(),
    size: () => entries,
    clear,
  };
}

/**
 * The cache serving a database handle. Registered for the app's own handle only: a transaction is another
 * handle, so a list read inside a transaction (which may see its own uncommitted writes) always counts.
 */
const caches = new WeakMap<object, CountCache>();

export function attachCountCache(db: Db, cache: CountCache): void {
  caches.set(db, cache);
}

export function detachCountCache(db: Db): void {
  caches.delete(db);
}

export function countCacheOf(db: Db): CountCache | undefined {
  return caches.get(db);
}
