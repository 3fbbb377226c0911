import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { EventStore } from '../../../../event-store/event-store.port.js';
import { decodeCursor, encodeCursor, queryFingerprint } from '../../../../shared/application/cursor.js';
import { InvalidRequestError, ResourceNotFoundError } from '../../../../shared/application/errors.js';
import { auditEvent, type AuditEvent } from '../../audit-event.js';
import { auditedStream } from '../../audited-aggregates.js';
import { GetCorrelationQuery, type CorrelationPage } from './get-correlation.query.js';

@QueryHandler(GetCorrelationQuery)
export class GetCorrelationHandler implements IQueryHandler<GetCorrelationQuery, CorrelationPage> {
  constructor(private readonly events: EventStore) {}

  async execute({ correlationId, limit, cursor }: GetCorrelationQuery): Promise<CorrelationPage> {
    const fingerprint = queryFingerprint({ correlation: correlationId });
    let after = -1n;
    if (cursor !== null) {
      const { value } = decodeCursor(cursor, fingerprint);
      if (typeof value !== 'string' || !/^\d{1,19}$/.test(value)) {
        throw new InvalidRequestError('INVALID_CURSOR', 'cursor is not valid here', 'cursor');
      }
      after = BigInt(value);
    }
    // One more than the page, to know whether another page follows.
    const items: AuditEvent[] = [];
    for (;;) {
      const batch = await this.events.readByCorrelation(correlationId, { after, limit: limit + 1 });
      for (const event of batch) {
        after = event.position;
        if (auditedStream(event.streamId)) items.push(auditEvent(event));
      }
      if (items.length > limit || batch.length <= limit) break;
    }
    if (cursor === null && items.length === 0) throw new ResourceNotFoundError('correlation', correlationId);
    const page = items.slice(0, limit);
    const last = page[page.length - 1];
    return {
      correlationId,
      items: page,
      nextCursor:
        items.length > limit && last
          ? encodeCursor({ value: String(last.position), id: last.id }, fingerprint)
          : null,
    };
  }
}
