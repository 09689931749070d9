import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Each test file builds its own app on its own database, copied from one migrated template.
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: on this 2-core machine that ran every file in turn,
    // while much of a file's time is waiting (a job queue's poll, a child process starting, a token expiring).
    // Two workers keep both cores busy; `--maxWorkers` on the command line still overrides it.
    maxWorkers: 2,
    // A worker keeps its imported modules from one file to the next: importing the app again in every file was
    // most of the suite's time. Each file still builds its own app on its own database (test/harness.ts).
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // Each run transformed every source file again (a few seconds of CPU per run): the transformed code is kept
    // between runs, keyed by each file's path and content (and the config and lockfile), outside node_modules,
    // which worktrees share.
    experimental: { fsModuleCache: true, fsModuleCachePath: join(tmpdir(), 'contentflow-vitest-modules') },
  },
});
