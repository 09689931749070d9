import type { Database } from '../../core/db.js';

export type ComponentStatus = 'ok' | 'degraded' | 'down';

export interface Health {
  status: ComponentStatus;
  database: { status: ComponentStatus; latency_ms: number | null };
  job_queue: { status: ComponentStatus | 'not_configured' };
  ai_provider: { status: 'configured' | 'not_configured' };
}

export interface HealthProbe {
  /** The job queue's own state, once the worker machinery is wired in. */
  jobQueue?: () => Promise<ComponentStatus>;
  aiConfigured?: () => boolean;
}

/** Pings the database (with a deadline, so a hung server reads as down) and asks each piece for its state. */
export function createSystemService(deps: { database: Database; probe: HealthProbe }) {
  const DEADLINE_MS = 2000;
  return {
    async health(): Promise<Health> {
      let database: Health['database'];
      try {
        const latency = await Promise.race([
          deps.database.ping(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), DEADLINE_MS).unref()),
        ]);
        database = { status: latency > 500 ? 'degraded' : 'ok', latency_ms: latency };
      } catch {
        database = { status: 'down', latency_ms: null };
      }
      const jobStatus: Health['job_queue']['status'] = deps.probe.jobQueue
        ? await deps.probe.jobQueue().catch(() => 'down' as const)
        : 'not_configured';
      const job_queue = { status: jobStatus };
      const ai_provider = { status: deps.probe.aiConfigured?.() ? ('configured' as const) : ('not_configured' as const) };
      const parts = [database.status, jobStatus === 'not_configured' ? 'ok' : jobStatus];
      const status: ComponentStatus = database.status === 'down' ? 'down' : parts.every((p) => p === 'ok') ? 'ok' : 'degraded';
      return { status, database, job_queue, ai_provider };
    },
  };
}
export type SystemService = ReturnType<typeof createSystemService>;
