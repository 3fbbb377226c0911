import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CommandObserver } from '../write-path/command-observer.js';
import { LogContext } from '../shared/application/log-context.js';
import { AdminPageModule } from './admin-page/admin-page.module.js';
import { HealthController } from './health.controller.js';
import { CorrelatedLogContext } from './logging.js';
import { AppMetrics } from './metrics/app-metrics.js';
import { CommandTelemetry } from './metrics/command-telemetry.js';
import { MetricsAccessGuard, MetricsController } from './metrics/metrics.controller.js';
import { ProjectionStatusService } from './application/projection-status.service.js';
import { ProjectionAdminModule } from './projection-admin.module.js';
import { ProjectionObserver } from './application/projection-observer.js';
import { StoreProbes } from './application/store-probes.js';

/**
 * Operations: health, metrics, log context. Global, so that the write path (CommandObserver) and the
 * process managers (LogContext) get their adapters without importing this module.
 */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), ProjectionAdminModule, AdminPageModule],
  controllers: [HealthController, MetricsController],
  providers: [
    AppMetrics,
    { provide: CommandObserver, useClass: CommandTelemetry },
    // Projection state for health and metrics: the projection admin's (heartbeats, stalls, faults, jobs).
    { provide: ProjectionObserver, useExisting: ProjectionStatusService },
    { provide: LogContext, useClass: CorrelatedLogContext },
    MetricsAccessGuard,
    StoreProbes,
  ],
  exports: [AppMetrics, CommandObserver, LogContext, ProjectionObserver],
})
export class OperationsModule {}
