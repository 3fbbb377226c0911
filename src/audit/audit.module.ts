import { Module } from '@nestjs/common';
import { GetCorrelationHandler } from './application/queries/get-correlation/get-correlation.handler.js';
import { GetDiffHandler } from './application/queries/get-diff/get-diff.handler.js';
import { GetStateAtHandler } from './application/queries/get-state-at/get-state-at.handler.js';
import { ReadStreamEventsHandler } from './application/queries/read-stream-events/read-stream-events.handler.js';
import { ReplayEventsHandler } from './application/queries/replay-events/replay-events.handler.js';
import { TimeTravel } from './application/time-travel.js';
import { AuditController } from './http/audit.controller.js';
import { CorrelationsController } from './http/correlations.controller.js';
import { TimeTravelController } from './http/time-travel.controller.js';

/**
 * Audit: replay, time travel, diffs and correlations, read from the event store (the source of truth).
 * Read-only; no domain of its own — it folds with the carts', orders' and products' own aggregate
 * definitions.
 */
@Module({
  controllers: [TimeTravelController, AuditController, CorrelationsController],
  providers: [
    TimeTravel,
    GetStateAtHandler,
    GetDiffHandler,
    ReadStreamEventsHandler,
    ReplayEventsHandler,
    GetCorrelationHandler,
  ],
})
export class AuditModule {}
