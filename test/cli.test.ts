import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../src/core/db.js';

/** The admin CLI, run as a person would: a real process on a real embedded database folder. */

const dataDir = mkdtempSync(join(tmpdir(), 'cf-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn', NODE_ENV: 'development', ...env },
    timeout: 60_000,
  });
}

// Each run is a fresh process compiling the sources (the first also migrates the folder): on a shared 2-core
// machine that can outlast the suite's 30 s default.
describe('npm run cli -- create-superuser', { timeout: 90_000 }, () => {
  it('creates a superuser on the embedded database', () => {
    const run = cli(['create-superuser', '--email', 'root@example.com', '--password', 'a long admin passphrase']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Created superuser root@example.com/);
  });

  it('refuses a common password with the field named', () => {
    const run = cli(['create-superuser', '--email', 'other@example.com', '--password', 'password']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/password: .*too common/);
  });

  it('refuses clearly while another process holds the embedded database', () => {
    // This test process stands in for the server: its pid is alive, and it claims the folder.
    writeFileSync(join(dataDir, 'pglite.pid'), String(process.pid));
    try {
      const run = cli(['create-superuser', '--email', 'late@example.com', '--password', 'a long admin passphrase']);
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
