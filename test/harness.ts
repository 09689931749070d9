import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Redis } from 'ioredis';
import pg from 'pg';
import type { DestinationStream } from 'pino';
import { inject } from 'vitest';
import { type App, buildApp } from '../src/app.js';
import { type Config, loadConfig } from '../src/core/config.js';
import { connect, type Database, pgliteOptions } from '../src/core/db.js';
import type { AnyJobDefinition, JobLimits } from '../src/core/jobs.js';
import { loggerOptions } from '../src/core/logger.js';

/**
 * The shared harness: `buildTestApp()` gives a real app on a database of its own (a copy of the migrated
 * template made by global-setup), driven through `app.inject()`. Nothing of ours is mocked.
 */

export interface TestApp {
  app: App;
  database: Database;
  config: Config;
  // biome-ignore lint/suspicious/noExplicitAny: a test reads an answer's fields directly, and its assertions check them
  request(options: InjectOptions): Promise<LightMyRequestResponse & { body: string; json: <T = any>() => T }>;
  close(): Promise<void>;
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    SECRET_KEY: 'test-secret-key-that-is-long-enough-to-sign-tokens',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'cf-data-')),
    THROTTLE_DISABLED: 'true',
    LOG_LEVEL: 'silent',
    WORKER: 'false',
    // Hundreds of sign-ups per run: a token argon2 cost (production keeps the standard one; core/config.ts).
    PASSWORD_HASH_COST: 'test',
    ...env,
  });
}

let counter = 0;

/**
 * What every PGlite copy starts from, read and compiled once per worker process (vitest keeps a worker's modules
 * across files, `isolate: false`): the template's dump, and PGlite's own WebAssembly modules and file-system
 * bundle, which `PGlite.create` would otherwise read and compile again for each database.
 */
type WasmModule = NonNullable<PGliteOptions['pgliteWasmModule']>;
// The global exists in Node; the project's `lib` (no DOM) declares only its types.
declare const WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> };
let template: Promise<Blob> | null = null;
let artifacts: Promise<Pick<PGliteOptions, 'pgliteWasmModule' | 'initdbWasmModule' | 'fsBundle'>> | null = null;

function pgliteTemplate(): Promise<Blob> {
  const file = inject('pgliteTemplate');
  if (!file) throw new Error('global-setup did not prepare a template database');
  template ??= readFile(file).then((bytes) => new Blob([bytes]));
  return template;
}

function pgliteArtifacts() {
  const dist = (name: string) => new URL(`./${name}`, import.meta.resolve('@electric-sql/pglite'));
  artifacts ??= Promise.all([
    readFile(dist('pglite.wasm')).then((bytes) => WebAssembly.compile(bytes)),
    readFile(dist('initdb.wasm')).then((bytes) => WebAssembly.compile(bytes)),
    readFile(dist('pglite.data')).then((bytes) => new Blob([bytes])),
  ]).then(([pgliteWasmModule, initdbWasmModule, fsBundle]) => ({ pgliteWasmModule, initdbWasmModule, fsBundle }));
  return artifacts;
}

export async function testDatabase(): Promise<{ database: Database; drop: () => Promise<void> }> {
  const postgresTemplate = inject('postgresTemplate');
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (postgresTemplate && serverUrl) {
    const name = `cf_test_${process.pid}_${++counter}_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${postgresTemplate}"`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const database = await connect({ databaseUrl: url.toString(), poolSize: 5, pgliteDir: 'memory://' });
    return {
      database,
      drop: async () => {
        // A test may have closed the pool already (the database-down checks); the copy must still be dropped.
        await database.close().catch(() => {});
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await admin.end();
      },
    };
  }
  const pglite = await PGlite.create(pgliteOptions({ loadDataDir: await pgliteTemplate(), ...(await pgliteArtifacts()) }));
  const database = await connect({ databaseUrl: null, poolSize: 1, pgliteDir: 'memory://', pglite });
  return { database, drop: () => database.close() };
}

/**
 * A DATA_DIR for a real server or CLI process, its embedded database already migrated (a copy of the template),
 * so the process starts without creating and migrating one. On Postgres runs there is no PGlite template: the
 * folder starts empty and the process migrates it itself.
 */
export async function seededDataDir(prefix = 'cf-server-'): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (!inject('pgliteTemplate')) return dir;
  const { pgliteDir } = testConfig({ DATA_DIR: dir });
  const pglite = await PGlite.create({ dataDir: pgliteDir, loadDataDir: await pgliteTemplate(), ...(await pgliteArtifacts()) });
  await pglite.close();
  return dir;
}

export interface TestAppOptions {
  /** Test-only routes, registered on the built app before `ready()` (never in production code). */
  routes?: (app: App) => void | Promise<void>;
  /** A Redis client for the Redis-backed tests (throttling across processes). */
  redis?: Redis | null;
  /** Job types made for the test, registered beside the modules' own. */
  jobs?: AnyJobDefinition[];
  /**
   * Limits replacing some job types' own (a short expiry for a kill test). Every process sharing the queue
   * must be given the same (the worker fixture passes them to runWorker too).
   */
  jobLimits?: Readonly<Record<string, JobLimits>>;
  /** Where the app logs, through the app's own logger options (core/logger.ts), at LOG_LEVEL; silent without. */
  logStream?: DestinationStream;
  /**
   * Another test app's database, for an app that differs only in its configuration (or stands for a second
   * server process on the same data): no copy is made, and closing this app leaves the database to its owner.
   */
  database?: Database;
  /** The built console's folder (src/core/console.ts): a build made for the test, or an empty one for "not built". */
  consoleDist?: string;
}

export async function buildTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const config = testConfig(env);
  const { database, drop } = options.database ? { database: options.database, drop: async () => {} } : await testDatabase();
  const app = await buildApp({
    config,
    database,
    redis: options.redis ?? null,
    logger: options.logStream ? { ...loggerOptions(config), stream: options.logStream } : false,
    version: 'test',
    jobs: options.jobs,
    jobLimits: options.jobLimits,
    consoleDist: options.consoleDist,
  });
  await options.routes?.(app);
  await app.ready();
  return {
    app,
    database,
    config,
    request: (options) => app.inject(options) as never,
    close: async () => {
      await app.close();
      await drop();
    },
  };
}
