import { type Static, Type } from 'typebox';
import { defineJob } from '../src/core/jobs.js';

/** The benchmark's job type: nothing to do, so what is measured is the queue itself. */
export const NoopPayload = Type.Object({ i: Type.Integer() });

declare module '../src/core/jobs.js' {
  interface JobPayloads {
    'bench.noop': Static<typeof NoopPayload>;
  }
}

export const noopJob = defineJob({
  name: 'bench.noop',
  payload: NoopPayload,
  retryLimit: 0,
  handler: async () => null,
});
