import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from '../src/cli.js';
import { connect } from '../src/core/db.js';

/**
 * The admin CLI on a real embedded database folder, new at first: migrated by the CLI, then a superuser created by
 * a real process as a person would run it; the other runs in this process, through the same entry point
 * (`runCli`), since what they check is the answer and the exit code, not the process (each spawn costs seconds
 * of CPU compiling the sources).
 */

const dataDir = mkdtempSync(join(tmpdir(), 'cf-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const cliEnv = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn', NODE_ENV: 'development' };

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    encoding: 'utf8',
    env: cliEnv,
    timeout: 60_000,
  });
}

/** The CLI in this process, with the environment `cli()` gives its child, and what it printed. */
async function cliHere(args: string[]) {
  const output = { stdout: '', stderr: '' };
  const io: CliIo = {
    env: cliEnv,
    out: (line) => (output.stdout += `${line}\n`),
    err: (line) => (output.stderr += `${line}\n`),
  };
  const status = await runCli(args, io);
  return { status, ...output };
}

// The spawned run is a fresh process compiling the sources: on a shared 2-core machine that can outlast the
// suite's 30 s default.
describe('npm run cli', { timeout: 90_000 }, () => {
  it('migrates a new embedded database folder', async () => {
    const run = await cliHere(['migrate']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Migrations applied/);
  });

  it('creates a superuser on the embedded database, as a process of its own', () => {
    const run = cli(['create-superuser', '--email', 'root@example.com', '--password', 'a long admin passphrase']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Created superuser root@example.com/);
  });

  it('refuses a common password with the field named', async () => {
    const run = await cliHere(['create-superuser', '--email', 'other@example.com', '--password', 'password']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/password: .*too common/);
  });

  it('refuses clearly while another process holds the embedded database', async () => {
    // The process that started this one stands in for the server: its pid is alive, and it claims the folder.
    writeFileSync(join(dataDir, 'pglite.pid'), String(process.ppid));
    try {
      const run = await cliHere(['create-superuser', '--email', 'late@example.com', '--password', 'a long admin passphrase']);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/in use by another process .*DATABASE_URL/s);
    } finally {
      rmSync(join(dataDir, 'pglite.pid'), { force: true });
    }
  });

  it('left a staff superuser behind', async () => {
    const database = await connect({ databaseUrl: null, poolSize: 1, pgliteDir: join(dataDir, 'pglite') });
    try {
      const result = await database.db.execute(
        sql`select is_staff, is_superuser from auth_users where email = 'root@example.com'`,
      );
      expect((result as unknown as { rows: unknown[] }).rows).toEqual([{ is_staff: true, is_superuser: true }]);
    } finally {
      await database.close();
    }
  });
});
