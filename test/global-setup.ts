import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { buildApp } from '../src/app.js';
import { connect, type Database, migrate } from '../src/core/db.js';
import { testConfig } from './harness.js';

/**
 * Migrates one template database for the whole run; every test app then starts from a copy of it:
 * on Postgres (TEST_DATABASE_URL) a `CREATE DATABASE ... TEMPLATE`, on PGlite a dump loaded into a fresh
 * in-memory instance. Migrations run once, and every test file still gets a database of its own.
 * The template also holds the job queue's own schema and queues: an app started once on it installs them, so a
 * test app's start finds them in place instead of creating pg-boss's tables again (seconds per app on PGlite).
 */

async function prepare(database: Database): Promise<void> {
  await migrate(database);
  const app = await buildApp({ config: testConfig(), database, logger: false, version: 'test' });
  await app.ready();
  await app.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string | null;
    postgresTemplate: string | null;
  }
}

export default async function setup(project: TestProject) {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const template = `cf_tpl_${process.pid}_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${template}"`);
    const url = new URL(serverUrl);
    url.pathname = `/${template}`;
    const database = await connect({ databaseUrl: url.toString(), poolSize: 2, pgliteDir: 'memory://' });
    await prepare(database);
    await database.close();
    project.provide('postgresTemplate', template);
    project.provide('pgliteTemplate', null);
    return async () => {
      // Databases copied from the template by test files are dropped by the files themselves.
      await admin.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
      await admin.end();
    };
  }
  const pglite = await PGlite.create();
  const database = await connect({ databaseUrl: null, poolSize: 1, pgliteDir: 'memory://', pglite });
  await prepare(database);
  // What each copy loads and starts from, made small: no template databases (nothing here creates a database;
  // they are a third of the dump), and a checkpoint, so a copy starts without replaying the migrations' log.
  for (const name of ['template0', 'template1']) {
    await pglite.exec(`ALTER DATABASE ${name} WITH is_template false`);
    await pglite.exec(`DROP DATABASE ${name}`);
  }
  await pglite.exec('CHECKPOINT');
  const dump = await pglite.dumpDataDir('none');
  const { writeFile, mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'cf-test-'));
  const file = join(dir, 'template.tar');
  await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  await pglite.close();
  project.provide('pgliteTemplate', file);
  project.provide('postgresTemplate', null);
  return async () => {
    const { rm } = await import('node:fs/promises');
    await rm(dir, { recursive: true, force: true });
  };
}
