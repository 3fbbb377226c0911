import { Query } from '@nestjs/cqrs';
import type { AuditEvent } from '../../audit-event.js';

export interface CorrelationPage {
  readonly correlationId: string;
  readonly items: readonly AuditEvent[];
  readonly nextCursor: string | null;
}

/** Every cart, order and product event one request (or the process it started) caused, in position order. */
export class GetCorrelationQuery extends Query<CorrelationPage> {
  constructor(
    readonly correlationId: string,
    readonly limit: number,
    readonly cursor: string | null,
  ) {
    super();
  }
}
