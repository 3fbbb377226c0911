import type { ProjectionStatus } from '../../application/projection-status.service.js';
import {
  adminPath,
  EXIT,
  invocation,
  writeJson,
  type CommandContext,
  type ServiceCommand,
} from '../command.js';
import { ago, count, details, duration, statusColour, table } from '../format.js';
import { degradedText, lagEvents, statusText } from '../projection-text.js';

export const projectionsCommand: ServiceCommand = {
  usage: 'projections [name]',
  summary:
    'every projection: status, generation, position, lag, events/s, parked, heartbeat, freshness p50/p99 and budget, owner (or one, in detail)',
  args: ['name?'],
  options: [],
  async run({ client, args, io, json, paint }) {
    const [name] = args;
    if (name !== undefined) {
      const { body } = await client.get<ProjectionStatus>(adminPath.projection(name));
      if (json) writeJson(io, body);
      else io.stdout.write(projectionDetails(body, paint));
      return EXIT.ok;
    }
    const { body } = await client.get<{ items: ProjectionStatus[] }>(adminPath.projections);
    if (json) {
      writeJson(io, body);
      return EXIT.ok;
    }
    const now = Date.now();
    io.stdout.write(
      table(body.items, [
        { header: 'NAME', value: (p) => p.name },
        { header: 'STATUS', value: (p) => paint(statusText(p), statusColour(p.status)) },
        {
          header: 'GEN',
          value: (p) => (p.liveGeneration === null ? '-' : String(p.liveGeneration)),
          align: 'right',
        },
        { header: 'POSITION', value: (p) => (p.position === null ? '-' : count(p.position)), align: 'right' },
        { header: 'LAG', value: lagEvents, align: 'right' },
        { header: 'LAG TIME', value: (p) => (p.lagMs === 0 ? '0' : duration(p.lagMs)), align: 'right' },
        { header: 'EV/S', value: (p) => count(p.eventsPerSecond), align: 'right' },
        {
          header: 'PARKED',
          value: (p) => (p.parked > 0 ? paint(count(p.parked), 'red') : '0'),
          align: 'right',
        },
        { header: 'HEARTBEAT', value: (p) => ago(p.lastHeartbeat, now) },
        { header: 'FRESH P50/P99', value: freshnessText, align: 'right' },
        {
          header: 'BUDGET',
          value: (p) => (p.freshness ? duration(p.freshness.budgetMs) : '-'),
          align: 'right',
        },
        { header: 'OWNER', value: (p) => p.owner ?? '-' },
      ]),
    );
    for (const p of body.items.filter((item) => !item.healthy)) {
      io.stdout.write(paint(`! ${p.name} is ${p.status}${p.lastError ? `: ${p.lastError}` : ''}\n`, 'red'));
    }
    for (const p of body.items.filter((item) => item.degraded === true)) {
      io.stdout.write(paint(`! ${degradedText(p, invocation())}\n`, 'yellow'));
    }
    return EXIT.ok;
  },
};

function projectionDetails(p: ProjectionStatus, paint: CommandContext['paint']): string {
  const now = Date.now();
  return details([
    ['name', `${p.name} (${p.kind}, group ${p.group})`],
    ['status', `${paint(statusText(p), statusColour(p.status))}${p.healthy ? '' : ' — unhealthy'}`],
    ['generation', p.liveGeneration === null ? '-' : `${p.liveGeneration} (${p.collections.join(', ')})`],
    ['position', `${p.position === null ? '-' : count(p.position)} of ${count(p.headPosition)}`],
    ['lag', `${lagEvents(p)} events, ${duration(p.lagMs)}`],
    [
      'freshness',
      p.freshness
        ? `p50/p99 ${freshnessText(p)} of ${count(p.freshness.samples)} applied in the last ${window(p.freshness.windowSeconds)}, budget ${duration(p.freshness.budgetMs)}, ${count(p.freshness.overBudget)} over budget`
        : '-',
    ],
    ['rate', `${count(p.eventsPerSecond)} events/s (${count(p.eventsApplied)} applied by this instance)`],
    ['parked', count(p.parked)],
    [
      'consistency',
      p.consistency
        ? `${p.consistency.sampling} at ${count(p.consistency.samplesPerSecond)}/s: ${count(p.consistency.samples)} compared, ${count(p.consistency.driftFound)} drift found${p.degraded ? ` — ${degradedText(p, invocation())}` : ''}`
        : '-',
    ],
    ['heartbeat', ago(p.lastHeartbeat, now)],
    ['owner', p.owner ?? '- (none: not running, or competing consumers on EventStoreDB)'],
    ['last batch', ago(p.lastBatchAt, now)],
    ['last error', p.lastError ?? '-'],
    [
      'job',
      p.job ? `${p.job.kind} ${p.job.id} (${p.job.phase}, ${p.job.eventsDone}/${p.job.eventsTotal})` : '-',
    ],
  ]);
}

/** `3 ms/14 ms` (p50/p99 of the recent window), `-` with nothing applied lately or for a process manager. */
function freshnessText(p: ProjectionStatus): string {
  const f = p.freshness;
  if (!f || f.p50Ms === null || f.p99Ms === null) return '-';
  return `${duration(f.p50Ms)}/${duration(f.p99Ms)}`;
}

/** 300 → `5 min`, 90 → `90 s`. */
function window(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}
