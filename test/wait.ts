import { FINISHED_STATUSES, type TaskStatus } from '../src/core/tasks.tables.js';
import type { TestApp } from './harness.js';

/**
 * Waiting on a condition instead of sleeping a fixed time: `read` is polled every 25 ms until `done` holds, and a
 * timeout names what was awaited and the last value read.
 */
export async function until<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Until `probe` finds something (anything but undefined), which it answers. */
export const found = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> =>
  until(what, probe, (value) => value !== undefined, timeoutMs) as Promise<T>;

/**
 * Until a task has ended (succeeded, failed or cancelled), read through the API as `headers` may: `task` is its id
 * or the `Location` its 202 answered. Answers the task as the API shows it.
 */
export function finishedTask(
  app: Pick<TestApp, 'request'>,
  headers: Record<string, string>,
  task: number | string,
  timeoutMs = 30_000,
  // biome-ignore lint/suspicious/noExplicitAny: the task as the wire has it; each test reads what it needs
): Promise<any> {
  const url = typeof task === 'number' ? `/api/v1/system/tasks/${task}/` : task;
  return until(
    `task ${task} to finish`,
    async () => (await app.request({ method: 'GET', url, headers })).json().data,
    (row: { status: TaskStatus }) => FINISHED_STATUSES.includes(row.status),
    timeoutMs,
  );
}
