/** A projection's status and lag as the tables, details and messages of several commands print them. */
import type { ProjectionStatus } from '../application/projection-status.service.js';
import { count, percent } from './format.js';

/** `rebuilding 40.0%`, or the status with the job it runs, e.g. `paused (verify 12.5%)`. */
export function statusText(p: ProjectionStatus): string {
  if (!p.job) return p.status;
  const { kind, eventsDone, eventsTotal } = p.job;
  const share = eventsTotal > 0 ? ` ${percent(eventsDone / eventsTotal)}` : '';
  return p.status === 'rebuilding' ? `${p.status}${share}` : `${p.status} (${kind}${share})`;
}

/** `1,234`, or `1,234+` when the service stopped counting. */
export function lagEvents(p: ProjectionStatus): string {
  return `${count(p.lagEvents)}${p.lagEventsCapped ? '+' : ''}`;
}
