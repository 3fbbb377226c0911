import { Inject, Injectable, Optional } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import type { DeliveredEvent, DeliveryOutcome } from '../../event-store/consumer-groups.port.js';
import { ConsumerRegistry } from '../../read-side/runtime/consumer-registry.js';
import { causedBy, ProcessManager } from '../../read-side/runtime/process-manager.js';
import { LogContext, NoLogContext } from '../../shared/application/log-context.js';
import { idInCategory } from '../../shared/domain/index.js';
import { RunOrderCommand } from '../commands/order-command.js';
import { orderAggregate } from '../order.aggregate.js';

/** Its name for operators (`/admin/projections`, pause/resume, parked events). */
export const REFUND_ON_CANCELLATION = 'refund-on-cancellation';
export const REFUND_ON_CANCELLATION_GROUP = 'process-refund-on-cancellation';

/**
 * Money is never stuck on a cancelled order: after an `OrderCancelled` (of a paid order) or an `OrderPaid`
 * (a capture that reached an order already cancelled — a payment racing a cancellation), the order refunds
 * what it holds and may not keep (`RefundBalance`), recorded as `OrderRefunded` caused by that event, under
 * its correlation id.
 *
 * Exactly one refund per amount due, whatever the delivery does: the refund's amount is decided from the
 * order's current state (nothing due → nothing appended), appended with the revision it was decided on (a
 * concurrent delivery re-decides and finds nothing left), under an idempotency key fixed by the event.
 */
@Injectable()
export class RefundOnCancellation extends ProcessManager {
  constructor(
    private readonly commands: CommandBus,
    @Inject(APP_CONFIG) config: AppConfig,
    consumers: ConsumerRegistry,
    @Optional() logContext: LogContext = new NoLogContext(),
  ) {
    super(
      consumers,
      {
        name: REFUND_ON_CANCELLATION,
        group: REFUND_ON_CANCELLATION_GROUP,
        eventTypes: ['OrderCancelled', 'OrderPaid'],
        maxRetries: config.readSide.maxRetries,
      },
      logContext,
    );
  }

  async handle({ event }: DeliveredEvent): Promise<DeliveryOutcome> {
    const orderId = idInCategory(orderAggregate.category, event.streamId);
    if (orderId === null) return { action: 'ack' };
    const context = causedBy(event, { id: REFUND_ON_CANCELLATION, roles: ['system'] }, `refund:${event.id}`);
    try {
      await this.commands.execute(new RunOrderCommand(orderId, { type: 'RefundBalance', data: {} }, context));
      return { action: 'ack' };
    } catch (error) {
      return this.failed(`refunding order ${orderId} after ${event.type}`, error);
    }
  }
}
