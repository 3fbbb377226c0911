import { Query } from '@nestjs/cqrs';
import type { AuditEvent } from '../../audit-event.js';

export interface StreamEventsPage {
  readonly stream: string;
  readonly lastRevision: bigint;
  readonly items: readonly AuditEvent[];
  /** Where the next page starts (same direction), or null when this page reached the stream's end. */
  readonly nextFrom: bigint | null;
}

/** A page of one cart, order or product stream's raw events, forwards or backwards from a revision (inclusive). */
export class ReadStreamEventsQuery extends Query<StreamEventsPage> {
  constructor(
    readonly streamId: string,
    /** null: the first revision (forwards) or the last (backwards). */
    readonly from: bigint | null,
    readonly limit: number,
    readonly direction: 'forwards' | 'backwards',
  ) {
    super();
  }
}
