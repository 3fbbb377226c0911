import { Query } from '@nestjs/cqrs';
import type { Actor } from '../../shared/application/command-context.js';
import type { TimelinePage } from './timeline-page.js';

export class GetCustomerTimelineQuery extends Query<TimelinePage> {
  constructor(
    readonly customerId: string,
    readonly actor: Actor,
    readonly limit: number,
    readonly cursor: string | null,
    /** The most stale (ms) the caller accepts (max-stale); null: any. */
    readonly maxStaleMs: number | null = null,
  ) {
    super();
  }
}
