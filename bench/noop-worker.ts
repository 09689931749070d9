import { runWorker } from '../src/worker.js';
import { noopJob } from './noop-job.js';

/** One `worker` process with the benchmark's job type (env from bench/jobs.ts). */
runWorker({ extraJobs: [noopJob] }).catch((error) => {
  console.error(error);
  process.exit(1);
});
