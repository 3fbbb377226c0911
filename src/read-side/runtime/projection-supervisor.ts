import { Logger } from '@nestjs/common';
import type { EventStore, GroupSubscription } from '../../event-store/event-store.port.js';
import type { ReadStore } from '../read-store.port.js';
import type { AnyProjection } from './projection.js';
import { ProjectionRunner } from './projection-runner.js';
import type { ReadModelNotifier } from './read-model-notifier.js';
import { physicalCollection, type ReadModels } from './read-models.js';

export interface ProjectionSettings {
  readonly batchSize: number;
  readonly maxRetries: number;
}

/** The consumer group of a projection. */
export function projectionGroup(projection: AnyProjection): string {
  return `projection-${projection.name}`;
}

/**
 * Runs every projection's live generation on its consumer group: creates the collections and indexes, then
 * subscribes. Stopping waits for the batches in flight, so nothing is acknowledged half-written.
 */
export class ProjectionSupervisor {
  private readonly logger = new Logger('Projections');
  private readonly subscriptions = new Map<string, GroupSubscription>();

  constructor(
    readonly projections: readonly AnyProjection[],
    private readonly events: EventStore,
    private readonly store: ReadStore,
    private readonly readModels: ReadModels,
    private readonly notifier: ReadModelNotifier,
    private readonly settings: ProjectionSettings,
  ) {}

  /** The runner of a projection's live generation (collections created). */
  async runnerFor(projection: AnyProjection): Promise<ProjectionRunner> {
    const generation = await this.readModels.liveGeneration(projection.name);
    const documents = physicalCollection(projection.documents.name, generation);
    await this.store.ensureCollection({ ...projection.documents, name: documents });
    let entries: string | undefined;
    if (projection.entries) {
      entries = physicalCollection(projection.entries.name, generation);
      await this.store.ensureCollection({ ...projection.entries, name: entries });
    }
    return new ProjectionRunner(
      projection,
      entries ? { documents, entries } : { documents },
      this.events,
      this.store,
      this.notifier,
    );
  }

  async start(): Promise<void> {
    for (const projection of this.projections) {
      const runner = await this.runnerFor(projection);
      const subscription = this.events.subscribeToGroup(
        {
          group: projectionGroup(projection),
          eventTypes: projection.eventTypes,
          maxRetries: this.settings.maxRetries,
          batchSize: this.settings.batchSize,
        },
        async (batch) => {
          const { outcomes, report } = await runner.handleWithReport(batch);
          if (report.failedStreams > 0) {
            const failure = outcomes.find((o) => o.action !== 'ack');
            this.logger.warn(
              `${projection.name}: ${report.failedStreams} stream(s) failed and will be retried: ${failure && 'reason' in failure ? failure.reason : ''}`,
            );
          }
          return outcomes;
        },
      );
      this.subscriptions.set(projection.name, subscription);
    }
  }

  async stop(): Promise<void> {
    const all = [...this.subscriptions.values()];
    this.subscriptions.clear();
    await Promise.all(all.map((subscription) => subscription.stop()));
  }
}
