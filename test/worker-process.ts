import { type ChildProcess, spawn } from 'node:child_process';
import type { TestApp } from './harness.js';

/**
 * A real worker process on the test app's Postgres database, for the tests that SIGKILL one mid-job: the
 * fixture (test/fixtures/*-worker.ts) starts the app's jobs with the same short job limits as the test app.
 * Killed at the end of the file by `killAll`, whatever the test did.
 */
export function workerProcesses(fixture: string) {
  const children: ChildProcess[] = [];
  return {
    start(t: TestApp, aiBaseUrl: string): ChildProcess {
      const databaseUrl = (t.database.pool as unknown as { options: { connectionString: string } }).options.connectionString;
      const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
        env: {
          ...process.env,
          NODE_ENV: 'test',
          DATABASE_URL: databaseUrl,
          SECRET_KEY: 'test-secret-key-that-is-long-enough-to-sign-tokens',
          LOG_LEVEL: 'warn',
          AI_BASE_URL: aiBaseUrl,
          AI_MAX_RETRIES: '0',
          JOBS_POLL_MS: '100',
          JOBS_MAINTENANCE_SECONDS: '1',
          SHUTDOWN_GRACE_SECONDS: '1',
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      children.push(child);
      return child;
    },
    killAll(): void {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
