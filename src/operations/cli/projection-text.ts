/** A projection's status and lag as the tables, details and messages of several commands print them. */
import type { ProjectionStatus } from '../application/projection-status.service.js';
import { count, percent } from './format.js';

/**
 * `rebuilding 40.0%`, or the status with the job it runs, e.g. `paused (verify 12.5%)`; `, degraded` when the
 * consistency sampler knows documents that differ from their streams (`running, degraded`).
 */
export function statusText(p: ProjectionStatus): string {
  // Services from before the consistency sampler answer no `degraded`.
  const degraded = p.degraded === true ? ', degraded' : '';
  if (!p.job) return `${p.status}${degraded}`;
  const { kind, eventsDone, eventsTotal } = p.job;
  const share = eventsTotal > 0 ? ` ${percent(eventsDone / eventsTotal)}` : '';
  return p.status === 'rebuilding'
    ? `${p.status}${share}${degraded}`
    : `${p.status} (${kind}${share})${degraded}`;
}

/**
 * Why a projection is degraded, for a line under the table: how many documents differ, the first of them
 * (id, stream, paths) and the command that repairs them.
 */
export function degradedText(p: ProjectionStatus, command: string): string {
  const c = p.consistency;
  const n = c?.driftedCount ?? 0;
  const first = c?.drifted[0];
  const where = first
    ? ` (${first.id}${first.streamId ? ` in ${first.streamId}` : ''}${first.fields.length > 0 ? `: ${first.fields.join(', ')}` : ''}${n > 1 ? ', …' : ''})`
    : '';
  return `${p.name} is degraded: ${count(n)} document${n === 1 ? '' : 's'} differ${n === 1 ? 's' : ''} from ${n === 1 ? 'its stream' : 'their streams'}${where}; repair: ${command} verify ${p.name} --repair`;
}

/** `1,234`, or `1,234+` when the service stopped counting. */
export function lagEvents(p: ProjectionStatus): string {
  return `${count(p.lagEvents)}${p.lagEventsCapped ? '+' : ''}`;
}
