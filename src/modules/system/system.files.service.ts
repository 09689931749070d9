import type { Db } from '../../core/db.js';
import * as repo from './system.files.repository.js';

/**
 * Stored files other modules let go of: most are released by the database itself (triggers on the tables that name
 * files: system.tables.ts), and what no row ever named (a build's files, written before its manifest) is released
 * here; `system.purge_released_files` deletes them from storage. Taking a key back is for a row that names it again.
 */
export function createStoredFiles() {
  return {
    release: (tx: Db, keys: string[]) => repo.releaseFiles(tx, keys),
    keep: (tx: Db, keys: string[]) => repo.keepFiles(tx, keys),
  };
}
export type StoredFiles = ReturnType<typeof createStoredFiles>;
