import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { EventStore, type RecordedEvent } from '../../../../event-store/event-store.port.js';
import { InvalidRequestError } from '../../../../shared/application/errors.js';
import { lastWhere } from '../../../../shared/application/monotone-search.js';
import { auditEvent, type AuditEvent } from '../../audit-event.js';
import { AUDITED, AUDITED_EVENT_TYPES, auditedStream } from '../../audited-aggregates.js';
import { ReplayEventsQuery, type ReplayFilters, type ReplayPages } from './replay-events.query.js';

/** Events read from the store at once: what a replay holds in memory at most (plus the socket's buffers). */
export const REPLAY_PAGE = 500;

/**
 * The replay covers what the store held when it started (up to the head position read first), so a busy
 * store cannot keep it running forever; `afterPosition` with the last position seen continues it.
 *
 * `from`/`to` compare `created`, the store's clock, which grows with the position: the replay skips events
 * before `from` and ends at the first event recorded after `to`.
 */
@QueryHandler(ReplayEventsQuery)
export class ReplayEventsHandler implements IQueryHandler<ReplayEventsQuery, ReplayPages> {
  constructor(private readonly events: EventStore) {}

  async execute({ filters }: ReplayEventsQuery): Promise<ReplayPages> {
    const types = this.eventTypes(filters);
    if (filters.from && filters.to && filters.from > filters.to) {
      throw new InvalidRequestError('VALIDATION_FAILED', 'from must not be after to', 'from');
    }
    if (filters.streamId !== null) return this.fromStream(filters, filters.streamId, new Set(types));
    return this.fromAll(filters, types, await this.events.headPosition());
  }

  /** The requested types, each checked, narrowed to the category's; every audited type by default. */
  private eventTypes({ types, category, streamId }: ReplayFilters): string[] {
    const kind = category ?? (streamId === null ? null : (auditedStream(streamId)?.kind ?? null));
    const allowed = kind === null ? AUDITED_EVENT_TYPES : AUDITED[kind].eventTypes;
    if (types === null) return [...allowed];
    const unknown = types.filter((type) => !AUDITED_EVENT_TYPES.includes(type));
    if (unknown.length > 0) {
      throw new InvalidRequestError(
        'VALIDATION_FAILED',
        `types: unknown event type ${unknown.join(', ')}; known types are ${AUDITED_EVENT_TYPES.join(', ')}`,
        'types',
      );
    }
    return [...new Set(types)].filter((type) => allowed.includes(type));
  }

  private async *fromAll(filters: ReplayFilters, types: string[], head: bigint): ReplayPages {
    const { from, to, category } = filters;
    let after = filters.afterPosition ?? -1n;
    let remaining = filters.limit ?? Number.POSITIVE_INFINITY;
    while (after < head && remaining > 0) {
      const batch = await this.events.readAll({ after, limit: REPLAY_PAGE, eventTypes: types });
      const page: AuditEvent[] = [];
      let ended = batch.length < REPLAY_PAGE;
      for (const event of batch) {
        if (event.position > head || (to && event.created > to)) {
          ended = true;
          break;
        }
        after = event.position;
        if (from && event.created < from) continue;
        // The type filter already keeps snapshots out; the stream check is a second lock on that door.
        const stream = auditedStream(event.streamId);
        if (!stream || (category !== null && stream.kind !== category)) continue;
        page.push(auditEvent(event));
        if (--remaining <= 0) break;
      }
      if (page.length > 0) yield page;
      if (ended) return;
    }
  }

  /**
   * One stream: read by revision (positions and instants grow with it), starting where `afterPosition` and
   * `from` point, each found by a binary search instead of a scan.
   */
  private async *fromStream(filters: ReplayFilters, streamId: string, types: Set<string>): ReplayPages {
    const last = await this.events.streamRevision(streamId);
    if (last === 'no_stream' || types.size === 0) return;
    const eventAt = async (revision: bigint): Promise<RecordedEvent | undefined> =>
      (await this.events.readStream(streamId, { from: revision, limit: 1 }))[0];
    const firstWhereNot = async (test: (event: RecordedEvent) => boolean): Promise<bigint> => {
      const found = await lastWhere({
        lo: 0n,
        hi: last,
        test: async (revision) => {
          const event = await eventAt(revision);
          return event !== undefined && test(event);
        },
      });
      return found === null ? 0n : found + 1n;
    };
    let next = 0n;
    const { afterPosition, from, to } = filters;
    if (afterPosition !== null) next = await firstWhereNot((event) => event.position <= afterPosition);
    if (from) {
      const fromRevision = await firstWhereNot((event) => event.created < from);
      if (fromRevision > next) next = fromRevision;
    }
    let remaining = filters.limit ?? Number.POSITIVE_INFINITY;
    while (next <= last && remaining > 0) {
      const batch = await this.events.readStream(streamId, { from: next, limit: REPLAY_PAGE });
      if (batch.length === 0) return;
      const page: AuditEvent[] = [];
      let ended = false;
      for (const event of batch) {
        if (event.revision > last || (to && event.created > to)) {
          ended = true;
          break;
        }
        next = event.revision + 1n;
        if (!types.has(event.type)) continue;
        page.push(auditEvent(event));
        if (--remaining <= 0) break;
      }
      if (page.length > 0) yield page;
      if (ended) return;
    }
  }
}
