import { type Static, Type } from 'typebox';
import { type AnyJobDefinition, defineJob } from '../../core/jobs.js';
import type { Storage } from '../../core/storage.js';
import * as repo from './system.files.repository.js';

export const PurgeReleasedFilesPayload = Type.Object({});

declare module '../../core/jobs.js' {
  interface JobPayloads {
    'system.purge_released_files': Static<typeof PurgeReleasedFilesPayload>;
  }
}

/** Files deleted per batch; a tick goes on until none are left. */
const PURGE_BATCH = 200;

/**
 * Deletes released files from storage, then forgets them: safe to run twice (deleting a missing file is no error),
 * and a storage outage leaves them for the next tick.
 */
export function systemFileJobs(deps: { storage: Storage }): AnyJobDefinition[] {
  return [
    defineJob({
      name: 'system.purge_released_files',
      payload: PurgeReleasedFilesPayload,
      cron: '*/10 * * * *',
      timeoutSeconds: 600,
      retryLimit: 2,
      handler: async (ctx) => {
        let purged = 0;
        for (;;) {
          const keys = await repo.releasedFiles(ctx.db, PURGE_BATCH);
          if (keys.length === 0) return { purged };
          for (const key of keys) await deps.storage.delete(key);
          await repo.forgetReleasedFiles(ctx.db, keys);
          purged += keys.length;
        }
      },
    }),
  ];
}
