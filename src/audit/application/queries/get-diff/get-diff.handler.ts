import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { EventStore } from '../../../../event-store/event-store.port.js';
import { InvalidRequestError } from '../../../../shared/application/errors.js';
import { auditEvent } from '../../audit-event.js';
import { AUDITED } from '../../audited-aggregates.js';
import { TimeTravel } from '../../time-travel.js';
import { diffViews } from '../../view-diff.js';
import { GetDiffQuery, type StateDiff } from './get-diff.query.js';

/** Events listed in one diff at most; the rest are paged with GET /audit/streams/:stream/events. */
export const DIFF_EVENTS_MAX = 1000;

@QueryHandler(GetDiffQuery)
export class GetDiffHandler implements IQueryHandler<GetDiffQuery, StateDiff> {
  constructor(
    private readonly timeTravel: TimeTravel,
    private readonly events: EventStore,
  ) {}

  async execute({ kind, id, actor, from, to }: GetDiffQuery): Promise<StateDiff> {
    const stream = await this.timeTravel.open(AUDITED[kind], id, actor);
    const [fromRevision, toRevision] = await Promise.all([
      this.timeTravel.resolve(stream, from),
      to === null ? stream.lastRevision : this.timeTravel.resolve(stream, to),
    ]);
    if (fromRevision > toRevision) {
      throw new InvalidRequestError(
        'VALIDATION_FAILED',
        `the from point (revision ${fromRevision}) comes after the to point (revision ${toRevision})`,
        'from',
      );
    }
    const count = toRevision - fromRevision;
    const [before, after, between] = await Promise.all([
      this.timeTravel.stateAt(stream, fromRevision),
      this.timeTravel.stateAt(stream, toRevision),
      count === 0n
        ? Promise.resolve([])
        : this.events.readStream(stream.streamId, {
            from: fromRevision + 1n,
            limit: count < BigInt(DIFF_EVENTS_MAX) ? Number(count) : DIFF_EVENTS_MAX,
          }),
    ]);
    return {
      from: { revision: before.revision, at: before.at },
      to: { revision: after.revision, at: after.at },
      changes: diffViews(before.view, after.view),
      events: between.map(auditEvent),
      eventCount: Number(count),
    };
  }
}
