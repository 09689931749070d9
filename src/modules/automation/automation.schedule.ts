import { Cron } from 'croner';
import type { FieldErrors } from '../../core/errors.js';
import type { Schedule } from './automation.tables.js';

/** A config's schedule read by croner, in its own time zone. */

/** The problems of a schedule as field errors (`schedule.cron`, `schedule.timezone`); null when it is good. */
export function scheduleProblems(schedule: Schedule): FieldErrors | null {
  const errors: FieldErrors = {};
  if (!knownTimeZone(schedule.timezone)) {
    errors['schedule.timezone'] = [`"${schedule.timezone}" is not an IANA time zone (for example "Europe/Paris" or "UTC").`];
  }
  try {
    const cron = new Cron(schedule.cron, { paused: true, timezone: errors['schedule.timezone'] ? 'UTC' : schedule.timezone });
    if (cron.nextRun() === null) errors['schedule.cron'] = ['This cron expression never comes due.'];
  } catch (error) {
    errors['schedule.cron'] = [`Not a valid cron expression: ${(error as Error).message.replace(/^CronPattern: /, '')}`];
  }
  return Object.keys(errors).length > 0 ? errors : null;
}

function knownTimeZone(zone: string): boolean {
  if (zone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The schedule's next `count` times strictly after `after`. */
export function nextRuns(schedule: Schedule, count: number, after: Date = new Date()): Date[] {
  return new Cron(schedule.cron, { paused: true, timezone: schedule.timezone }).nextRuns(count, after);
}

/** The first due time after `after`, or null when the schedule never comes due again. */
export function nextRun(schedule: Schedule, after: Date = new Date()): Date | null {
  return nextRuns(schedule, 1, after)[0] ?? null;
}
