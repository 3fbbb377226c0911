import { Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { DeliveredEvent, DeliveryOutcome } from '../../event-store/consumer-groups.port.js';
import type { JsonObject } from '../../event-store/event-store.port.js';
import type { CommandContext } from '../../shared/application/command-context.js';
import type { LogContext } from '../../shared/application/log-context.js';
import { DomainError } from '../../shared/domain/index.js';
import type { ConsumerRegistry } from './consumer-registry.js';

export interface ProcessManagerSettings {
  /** Its name for operators (`/admin/projections`, pause/resume, parked events). */
  readonly name: string;
  /** Its consumer group. */
  readonly group: string;
  readonly eventTypes: readonly string[];
  readonly maxRetries: number;
}

/**
 * A process manager: reacts to events of a durable consumer group by sending commands. Delivery is at least
 * once, so each reaction must be idempotent (a fixed idempotency key or a decision that finds nothing left to
 * do). It runs through the consumer registry, so operators see, pause and resume it like a projection, and
 * what a reaction logs carries the correlation id of the event that caused it.
 */
export abstract class ProcessManager implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;

  constructor(
    private readonly consumers: ConsumerRegistry,
    readonly settings: ProcessManagerSettings,
    logContext: LogContext,
  ) {
    this.logger = new Logger(settings.name);
    consumers.register({
      name: settings.name,
      kind: 'process-manager',
      settings: {
        group: settings.group,
        eventTypes: settings.eventTypes,
        maxRetries: settings.maxRetries,
        batchSize: 64,
      },
      handler: (batch) =>
        Promise.all(
          batch.map((delivered) =>
            logContext.run(correlationIdOf(delivered.event), () => this.handle(delivered)),
          ),
        ),
    });
  }

  /** Reacts to one event; exposed for tests that redeliver on purpose. */
  abstract handle(delivered: DeliveredEvent): Promise<DeliveryOutcome>;

  /**
   * What a reaction that threw asks of the group: a rule violation will not heal by itself, so it is parked
   * for an operator; anything else may be transient (a store down), so it is retried, and logged.
   */
  protected failed(what: string, error: unknown): DeliveryOutcome {
    const reason = `${what} failed: ${error instanceof Error ? error.message : String(error)}`;
    if (error instanceof DomainError) return { action: 'park', reason };
    this.logger.warn(reason);
    return { action: 'retry', reason };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.consumers.start(this.settings.name);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumers.stop(this.settings.name);
  }
}

function correlationIdOf(event: { readonly id: string; readonly metadata: JsonObject }): string {
  const { correlationId } = event.metadata;
  return typeof correlationId === 'string' ? correlationId : event.id;
}

/**
 * The context of a command a process manager sends because of `event`: same correlation, caused by the event,
 * under a fixed idempotency key (a redelivery is then a replay).
 */
export function causedBy(
  event: { readonly id: string; readonly metadata: JsonObject },
  actor: CommandContext['actor'],
  idempotencyKey: string,
): CommandContext {
  return {
    actor,
    correlationId: correlationIdOf(event),
    causationId: event.id,
    idempotencyKey,
    requestHash: event.id,
    expectedRevision: null,
  };
}
