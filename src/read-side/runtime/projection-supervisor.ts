import { Logger } from '@nestjs/common';
import type { DeliveredEvent, DeliveryOutcome } from '../../event-store/consumer-groups.port.js';
import type { EventStore } from '../../event-store/event-store.port.js';
import type { ReadStore } from '../read-store.port.js';
import type { ConsumerRegistry } from './consumer-registry.js';
import type { ManagedConsumer } from './managed-consumer.js';
import type { FreshnessMonitor } from './freshness.js';
import type { AnyProjection } from './projection.js';
import { ProjectionRunner } from './projection-runner.js';
import type { ReadModelNotifier } from './read-model-notifier.js';
import { physicalCollection, type LiveGenerations } from './live-generations.js';

export interface ProjectionSettings {
  readonly batchSize: number;
  readonly maxRetries: number;
  /** Documents each runner keeps in its write-through cache (0: none). */
  readonly documentCacheSize?: number;
}

/** The consumer group of a projection. */
export function projectionGroup(projection: AnyProjection): string {
  return `projection-${projection.name}`;
}

/**
 * Runs every projection's live generation on its consumer group: creates the collections and indexes, then
 * subscribes (through the ConsumerRegistry, so that operators can pause a projection and a rebuild can hold
 * it). Each batch goes to the runner of the generation that is live *now* (LiveGenerations, cached ≤ 1 s), so a
 * generation switch — here or by another instance — redirects the live group without a restart. Stopping
 * waits for the batches in flight, so nothing is acknowledged half-written.
 */
export class ProjectionSupervisor {
  private readonly logger = new Logger('Projections');
  private readonly live = new Map<
    string,
    { readonly generation: number; readonly runner: ProjectionRunner }
  >();

  constructor(
    readonly projections: readonly AnyProjection[],
    private readonly events: EventStore,
    private readonly store: ReadStore,
    private readonly generations: LiveGenerations,
    private readonly notifier: ReadModelNotifier,
    private readonly settings: ProjectionSettings,
    /** The consumer groups of this process: the projections' are registered here. */
    readonly consumers: ConsumerRegistry,
    /** Told of every event the live runners apply (freshness); rebuild runners never tell it. */
    private readonly freshness?: FreshnessMonitor,
  ) {
    for (const projection of projections) {
      this.consumers.register({
        name: projection.name,
        kind: 'projection',
        settings: {
          group: projectionGroup(projection),
          eventTypes: projection.eventTypes,
          maxRetries: settings.maxRetries,
          batchSize: settings.batchSize,
        },
        handler: (batch, onProgress) => this.handle(projection, batch, onProgress),
      });
    }
  }

  projection(name: string): AnyProjection | undefined {
    return this.projections.find((p) => p.name === name);
  }

  /**
   * A runner writing to one generation of a projection (default: the live one), its collections created.
   * Only the live generation's runner notifies waiting readers.
   */
  async runnerFor(projection: AnyProjection, generation?: number): Promise<ProjectionRunner> {
    const live = generation === undefined;
    const target = await ensureGeneration(
      this.store,
      projection,
      generation ?? (await this.generations.liveGeneration(projection.name)),
    );
    return new ProjectionRunner(
      projection,
      target,
      this.events,
      this.store,
      live ? this.notifier : undefined,
      this.settings.documentCacheSize ?? 0,
    );
  }

  async start(): Promise<void> {
    for (const projection of this.projections) {
      await this.liveRunner(projection);
      await this.consumers.start(projection.name);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.projections.map((projection) => this.consumers.stop(projection.name)));
  }

  /**
   * Stops delivering to this projection in this process (the batch in flight settled) until the returned
   * function is called: the generation switch of a rebuild.
   */
  hold(name: string): Promise<() => Promise<void>> {
    return this.consumer(name).hold();
  }

  private consumer(name: string): ManagedConsumer {
    const consumer = this.consumers.get(name);
    if (!consumer) throw new Error(`no projection named ${name}`);
    return consumer;
  }

  private async handle(
    projection: AnyProjection,
    batch: readonly DeliveredEvent[],
    onProgress: () => void,
  ): Promise<DeliveryOutcome[]> {
    const runner = await this.liveRunner(projection);
    const { outcomes, report } = await runner.handleWithReport(batch, onProgress);
    if (report.failedStreams > 0) {
      const failure = outcomes.find((o) => o.action !== 'ack');
      this.logger.warn(
        `${projection.name}: ${report.failedStreams} stream(s) failed and will be retried: ${failure && 'reason' in failure ? failure.reason : ''}`,
      );
    }
    return outcomes;
  }

  /** The runner of the generation live now (a new one after a switch). */
  private async liveRunner(projection: AnyProjection): Promise<ProjectionRunner> {
    const generation = await this.generations.liveGeneration(projection.name);
    const current = this.live.get(projection.name);
    if (current?.generation === generation) return current.runner;
    const target = await ensureGeneration(this.store, projection, generation);
    const runner = new ProjectionRunner(
      projection,
      target,
      this.events,
      this.store,
      this.notifier,
      0,
      this.freshness,
    );
    this.live.set(projection.name, { generation, runner });
    return runner;
  }
}

/** Creates the collections of one generation of a projection (idempotent) and names them. */
export async function ensureGeneration(
  store: ReadStore,
  projection: AnyProjection,
  generation: number,
): Promise<{ documents: string; entries?: string }> {
  const documents = physicalCollection(projection.documents.name, generation);
  await store.ensureCollection({ ...projection.documents, name: documents });
  if (!projection.entries) return { documents };
  const entries = physicalCollection(projection.entries.name, generation);
  await store.ensureCollection({ ...projection.entries, name: entries });
  return { documents, entries };
}

/** Drops the collections of one generation of a projection (missing ones are fine). */
export async function dropGeneration(
  store: ReadStore,
  projection: AnyProjection,
  generation: number,
): Promise<void> {
  await store.dropCollection(physicalCollection(projection.documents.name, generation));
  if (projection.entries) await store.dropCollection(physicalCollection(projection.entries.name, generation));
}
