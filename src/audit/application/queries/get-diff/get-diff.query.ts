import { Query } from '@nestjs/cqrs';
import type { Actor } from '../../../../shared/application/command-context.js';
import type { AuditEvent } from '../../audit-event.js';
import type { AuditedKind } from '../../audited-aggregates.js';
import type { Point } from '../../time-travel.js';
import type { AnyViewDiff } from '../../view-diff.js';

export interface DiffPoint {
  readonly revision: bigint;
  readonly at: Date;
}

export interface StateDiff {
  readonly from: DiffPoint;
  readonly to: DiffPoint;
  readonly changes: AnyViewDiff;
  /** The events after `from` up to and including `to`, the first DIFF_EVENTS_MAX of them. */
  readonly events: readonly AuditEvent[];
  /** How many events lie between the two points (more than `events` holds when truncated). */
  readonly eventCount: number;
}

/** What changed in a cart, an order or a product between two points (`to` null: its latest revision). */
export class GetDiffQuery extends Query<StateDiff> {
  constructor(
    readonly kind: AuditedKind,
    readonly id: string,
    readonly actor: Actor,
    readonly from: Point,
    readonly to: Point | null,
  ) {
    super();
  }
}
