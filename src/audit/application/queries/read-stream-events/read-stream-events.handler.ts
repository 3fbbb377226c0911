import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { EventStore } from '../../../../event-store/event-store.port.js';
import { ResourceNotFoundError } from '../../../../shared/application/errors.js';
import { auditEvent } from '../../audit-event.js';
import { auditedStream } from '../../audited-aggregates.js';
import { ReadStreamEventsQuery, type StreamEventsPage } from './read-stream-events.query.js';

@QueryHandler(ReadStreamEventsQuery)
export class ReadStreamEventsHandler implements IQueryHandler<ReadStreamEventsQuery, StreamEventsPage> {
  constructor(private readonly events: EventStore) {}

  async execute({ streamId, from, limit, direction }: ReadStreamEventsQuery): Promise<StreamEventsPage> {
    // Snapshot streams, system streams and anything not a cart, an order or a product are not audit material.
    if (!auditedStream(streamId)) throw new ResourceNotFoundError('stream', streamId);
    const lastRevision = await this.events.streamRevision(streamId);
    if (lastRevision === 'no_stream') throw new ResourceNotFoundError('stream', streamId);
    const forwards = direction === 'forwards';
    const start = from ?? (forwards ? 0n : lastRevision);
    const read =
      !forwards && start > lastRevision
        ? this.events.readStream(streamId, { direction, from: lastRevision, limit })
        : this.events.readStream(streamId, { direction, from: start, limit });
    const events = await read;
    const last = events[events.length - 1];
    let nextFrom: bigint | null = null;
    if (last && forwards && last.revision < lastRevision) nextFrom = last.revision + 1n;
    if (last && !forwards && last.revision > 0n) nextFrom = last.revision - 1n;
    return { stream: streamId, lastRevision, items: events.map(auditEvent), nextFrom };
  }
}
