import { Query } from '@nestjs/cqrs';
import type { Actor } from '../../../../shared/application/command-context.js';
import type { AuditedKind } from '../../audited-aggregates.js';
import type { Point, StateAt } from '../../time-travel.js';

/** A cart's, an order's or a product's state at a revision or an instant, folded from its stream. */
export class GetStateAtQuery extends Query<StateAt> {
  constructor(
    readonly kind: AuditedKind,
    readonly id: string,
    readonly actor: Actor,
    readonly point: Point,
  ) {
    super();
  }
}
