import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/core/db.js';

/**
 * The committed migrations match the table definitions: drizzle-kit generates into a temporary copy of
 * drizzle/ and must find nothing to write. A table changed without `npm run db:generate` fails here.
 */

const run = promisify(execFile);

describe('migrations', () => {
  it('drizzle/ is up to date with every *.tables.ts', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cf-drizzle-'));
    try {
      cpSync(join(PROJECT_ROOT, 'drizzle'), out, { recursive: true });
      const before = readdirSync(out, { recursive: true }).map(String).sort();
      const { stdout } = await run(join(PROJECT_ROOT, 'node_modules/.bin/drizzle-kit'), ['generate'], {
        cwd: PROJECT_ROOT,
        // drizzle-kit prefixes `./` to the folder it is given: an absolute path must be made relative.
        env: { ...process.env, DRIZZLE_OUT: relative(PROJECT_ROOT, out) },
        timeout: 60_000,
      });
      const after = readdirSync(out, { recursive: true }).map(String).sort();
      expect(after, `drizzle-kit generated new files:\n${stdout}`).toEqual(before);
      expect(stdout).toMatch(/No schema changes/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 90_000);
});
