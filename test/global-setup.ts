import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { connect, type Database, MIGRATIONS_FOLDER, migrate, PROJECT_ROOT, pgliteOptions } from '../src/core/db.js';

/**
 * Migrates one template database; every test app then starts from a copy of it: on Postgres
 * (TEST_DATABASE_URL) a `CREATE DATABASE ... TEMPLATE` made for the run, on PGlite a dump (kept in the system's
 * temporary folder for later runs while its inputs are unchanged) loaded into a fresh in-memory instance.
 * Migrations run once, and every test file still gets a database of its own.
 * The template also holds the job queue's own schema and queues: an app started once on it installs them, so a
 * test app's start finds them in place instead of creating pg-boss's tables again (seconds per app on PGlite).
 */

async function prepare(database: Database): Promise<void> {
  await migrate(database);
  // Imported here: a run whose template is already made never loads the app in this process.
  const [{ buildApp }, { testConfig }] = await Promise.all([import('../src/app.js'), import('./harness.js')]);
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
  // The template is kept between runs under a name made of what it is built from: the migrations, the core code
  // that migrates, the locked dependency versions (PGlite, pg-boss) and this file. Queues and schedules need not be in the key: every app
  // start creates the missing ones and updates the rest (core/jobs.ts).
  const file = join(tmpdir(), `contentflow-test-template-${await templateKey()}.tar`);
  if (!existsSync(file)) await writeTemplate(file);
  project.provide('pgliteTemplate', file);
  project.provide('postgresTemplate', null);
}

async function templateKey(): Promise<string> {
  const hash = createHash('sha256');
  const migrations = readdirSync(MIGRATIONS_FOLDER, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  // The code that shapes the template beyond the migrations: PGlite's settings and the migrate step (core/db.ts),
  // the change triggers it installs (core/changes.ts) and the job queue's schema (core/jobs.ts).
  const code = ['db.ts', 'changes.ts', 'jobs.ts'].map((name) => join(PROJECT_ROOT, 'src/core', name));
  for (const path of [...migrations, ...code, join(PROJECT_ROOT, 'package-lock.json'), fileURLToPath(import.meta.url)]) {
    hash
      .update(relative(PROJECT_ROOT, path))
      .update('\0')
      .update(await readFile(path))
      .update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

async function writeTemplate(file: string): Promise<void> {
  const pglite = await PGlite.create(pgliteOptions());
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
  await pglite.close();
  // Written aside and renamed: a run starting meanwhile (another checkout) never reads half a file.
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
  await rename(partial, file);
}
