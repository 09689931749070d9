import type { FastifyBaseLogger } from 'fastify';

/**
 * SIGTERM/SIGINT for a process (the API server, a worker): `close` gets the grace period, then the process
 * exits hard, whatever `close` is waiting for (a request that never ends, a stuck job, a pool that will not
 * drain). The hard exit is armed before anything else runs, and logging can never throw past it: a failed log
 * write (EPIPE on a closed stdout) once kept an orphaned server alive for minutes.
 */
export function exitOnSignals(options: {
  graceSeconds: number;
  log: FastifyBaseLogger;
  close: () => Promise<void>;
  /** What the first line says, e.g. 'shutting down: finishing in-flight requests'. */
  message: string;
}): void {
  const { log } = options;
  const safely = (write: () => void) => {
    try {
      write();
    } catch {
      // the log is unwritable; shutting down matters more
    }
  };
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    const hardExit = setTimeout(() => {
      safely(() => log.error({ grace_seconds: options.graceSeconds }, 'shutdown grace period over; exiting'));
      process.exit(1);
    }, options.graceSeconds * 1000);
    hardExit.unref();
    safely(() => log.info({ signal, grace_seconds: options.graceSeconds }, options.message));
    options.close().then(
      () => process.exit(0),
      (error) => {
        safely(() => log.error({ err: error }, 'error while shutting down'));
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
