import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { type SQL, sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { installChangeTriggers } from './changes.js';

/** What repositories receive: the database or an open transaction (both run queries the same way). */
// biome-ignore lint/suspicious/noExplicitAny: the schema type parameter is not used; tables are imported directly.
export type Db = PgDatabase<PgQueryResultHKT, any>;

/**
 * The rows of a query Drizzle's builder does not express (locking reads, catalogs, snapshots, a lateral join),
 * typed by the caller. Both drivers answer `{ rows }`; `Db`, spanning both, cannot say so, hence the one cast.
 */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

export interface Database {
  kind: 'pglite' | 'postgres';
  db: Db;
  /** The driver underneath, for the few things Drizzle does not do (pg-boss, cloning test databases). */
  pglite: PGlite | null;
  pool: pg.Pool | null;
  ping(): Promise<number>;
  close(): Promise<void>;
}

/** The project's root: the folder holding package.json, from src/ (tsx) or dist/src/ (compiled) alike. */
export const PROJECT_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above src/core');
    dir = parent;
  }
  return dir;
})();
export const MIGRATIONS_FOLDER = join(PROJECT_ROOT, 'drizzle');

// int8 (counts, sums) as numbers on both drivers: PGlite already does, node-postgres would give strings.
const INT8_OID = 20;
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

/**
 * The driver under a database handle, for the few hot reads that skip Drizzle's query building (core/lists.ts):
 * registered for the handle `connect` makes, never for a transaction's.
 */
export type DirectClient = { kind: 'postgres'; pool: pg.Pool } | { kind: 'pglite'; pglite: PGlite };
const directClients = new WeakMap<object, DirectClient>();
export const directClientOf = (db: Db): DirectClient | undefined => directClients.get(db);

// Timestamps, dates and intervals as the text Postgres sends: Drizzle's columns decode them (as its drivers do).
const RAW_TYPE_IDS = [1082, 1114, 1184, 1186, 1115, 1182, 1185, 1187, 1231];
const rawPgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (RAW_TYPE_IDS.includes(oid)) return (value: string) => value;
    return pgTypes.getTypeParser(oid, format);
  },
};
const rawPgliteParsers = Object.fromEntries(RAW_TYPE_IDS.map((oid) => [oid, (value: string) => value]));
const statementNames = new Map<string, string>();
const MAX_NAMED_STATEMENTS = 500;

/**
 * Runs one read on the driver, rows as arrays of driver values. On Postgres the statement is named (prepared once
 * per connection, so Postgres neither parses nor, once its plan is generic, plans it again); the first 500 texts
 * get names, the rest run unnamed.
 */
export async function directRows(client: DirectClient, text: string, params: unknown[]): Promise<unknown[][]> {
  if (client.kind === 'pglite') {
    const result = await client.pglite.query<unknown[]>(text, params, { rowMode: 'array', parsers: rawPgliteParsers });
    return result.rows;
  }
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) {
    name = `cf_read_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  const result = await client.pool.query({ name, text, values: params, rowMode: 'array', types: rawPgTypes });
  return result.rows as unknown[][];
}

export interface ConnectOptions {
  databaseUrl: string | null;
  poolSize: number;
  /** A folder, or `memory://` for a throwaway in-memory database. */
  pgliteDir: string;
  /** An already-open PGlite (tests clone a migrated one). */
  pglite?: PGlite;
}

export async function connect(options: ConnectOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize,
      types: pgTypes,
      application_name: 'contentflow',
    });
    // An idle client that loses its server emits 'error'; without a listener that would crash the process.
    pool.on('error', () => {});
    const db = drizzleNodePg(pool) as unknown as Db;
    directClients.set(db, { kind: 'postgres', pool });
    return {
      kind: 'postgres',
      db,
      pglite: null,
      pool,
      ping: () => timedPing(db),
      close: () => pool.end(),
    };
  }
  const pglite = options.pglite ?? (await openPglite(options.pgliteDir));
  const db = drizzlePglite(pglite) as unknown as Db;
  directClients.set(db, { kind: 'pglite', pglite });
  return {
    kind: 'pglite',
    db,
    pglite,
    pool: null,
    ping: () => timedPing(db),
    close: async () => {
      if (!pglite.closed) await pglite.close();
      releases.get(pglite)?.();
    },
  };
}

/**
 * PGlite is one process's database: a second process opening the same folder would corrupt it. The process
 * that opens it leaves its pid in `<dir>.pid`; another finds it alive and refuses with a clear message.
 */
function claimDataDir(dir: string): () => void {
  const pidFile = `${dir}.pid`;
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new Error(
        `The embedded database in ${dir} is in use by another process (pid ${pid}, usually the server). ` +
          'Stop it first, or set DATABASE_URL to a Postgres server so several processes can share the data.',
      );
    }
  }
  mkdirSync(dirname(pidFile), { recursive: true });
  writeFileSync(pidFile, String(process.pid));
  return () => rmSync(pidFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The embedded database's settings, sized for the small machine it is meant for (measured in bench/pglite-memory.mjs).
 * PGlite's own defaults allocate Postgres's shared buffers at 160 MB inside the WASM heap, and that heap never
 * gives memory back; the data of one installation's lists fits in far less (a few MB per 10,000 keywords), and
 * every page not in shared buffers is still in the operating system's file cache. `maintenance_work_mem` bounds
 * what an index build or ANALYZE (after a large import) makes the heap grow to, for good. One backend, so no
 * parallel workers. The trigram extension serves the lists' substring search (planner keywords).
 */
export const PGLITE_SETTINGS: Record<string, string> = {
  shared_buffers: '16MB',
  maintenance_work_mem: '16MB',
  work_mem: '4MB',
  temp_buffers: '4MB',
  wal_buffers: '1MB',
};

export function pgliteOptions(extra: Omit<PGliteOptions, 'extensions' | 'startParams'> = {}): PGliteOptions {
  const settings = Object.entries(PGLITE_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  return { ...extra, extensions: { pg_trgm }, startParams: [...PGlite.defaultStartParams, ...settings] };
}

const execFileAsync = promisify(execFile);

/**
 * A new data folder is made by PGlite's initdb, a second WASM instance as large again as the database's; its memory
 * stays with the process that ran it, so a short-lived child process makes the folder and the server only opens it.
 */
async function initialiseDataDir(dir: string): Promise<void> {
  if (existsSync(join(dir, 'PG_VERSION'))) return;
  const script =
    "const { PGlite } = await import('@electric-sql/pglite'); const db = await PGlite.create(process.argv[1]); await db.close();";
  await execFileAsync(process.execPath, ['--input-type=module', '-e', script, dir], { cwd: PROJECT_ROOT });
}

async function openPglite(dir: string): Promise<PGlite> {
  if (dir === 'memory://') return PGlite.create(pgliteOptions());
  const release = claimDataDir(dir);
  try {
    await initialiseDataDir(dir);
    const pglite = await PGlite.create(dir, pgliteOptions());
    releases.set(pglite, release);
    return pglite;
  } catch (error) {
    release();
    throw new Error(
      `Could not open the embedded database in ${dir}: ${(error as Error).message}. ` +
        'If the server is running, stop it first, or set DATABASE_URL to use a Postgres server.',
    );
  }
}

const releases = new WeakMap<PGlite, () => void>();

async function timedPing(db: Db): Promise<number> {
  const started = performance.now();
  await db.execute(sql`select 1`);
  return Math.round((performance.now() - started) * 100) / 100;
}

// Several API processes may start at once against one Postgres; one migrates while the others wait.
const MIGRATION_LOCK = 727_001;

/**
 * Applies the committed SQL migrations in drizzle/ that have not run yet, then gives every account table the
 * triggers that announce its changes (core/changes.ts).
 */
export async function migrate(database: Database): Promise<void> {
  if (database.kind === 'pglite') {
    await migratePglite(database.db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    await installChangeTriggers(database.db);
    return;
  }
  const client = await (database.pool as pg.Pool).connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const locked = drizzleNodePg(client);
    await migrateNodePg(locked, { migrationsFolder: MIGRATIONS_FOLDER });
    await installChangeTriggers(locked as unknown as Db);
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}
