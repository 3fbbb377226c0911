import { AsyncResource } from 'node:async_hooks';
import { Logger } from '@nestjs/common';
import type { ConsumerGroups } from '../../event-store/consumer-groups.port.js';
import type { ReadStore } from '../read-store.port.js';
import { errorText, ManagedConsumer, type ManagedConsumerSpec } from './managed-consumer.js';

/** Meta key of a consumer's paused flag (shared by every instance through the read store). */
export function pausedKey(name: string): string {
  return `consumer-paused:${name}`;
}

export interface ConsumerRegistryOptions {
  /** Idle heartbeat period, and how often every instance re-reads the paused flags. */
  readonly heartbeatMs: number;
}

/**
 * Every consumer group of this process (the projections and the checkout process manager), with their
 * paused flags. A paused flag lives in the read store's meta (`consumer-paused:<name>`), so it survives a
 * restart and reaches every instance: each one re-reads the flags every heartbeat period and follows them.
 */
export class ConsumerRegistry {
  private readonly consumers = new Map<string, ManagedConsumer>();
  private readonly logger = new Logger('Consumers');
  private timer: NodeJS.Timeout | undefined;
  private refreshing = false;
  private refreshFailed = false;
  /** Pause/resume requests of this process in flight, and a count of their starts and ends. */
  private pauseRequestsInFlight = 0;
  private pauseRequestEdges = 0;
  /** Made with the registry (at start, outside any request): the context every consumer delivers in. */
  private readonly scope = new AsyncResource('ordertrail.consumers');

  constructor(
    /** The groups they run on (also where their checkpoints and parked events are read). */
    readonly groups: ConsumerGroups,
    private readonly store: ReadStore,
    readonly options: ConsumerRegistryOptions,
  ) {}

  register(spec: ManagedConsumerSpec): ManagedConsumer {
    if (this.consumers.has(spec.name)) throw new Error(`consumer ${spec.name} is registered twice`);
    const consumer = new ManagedConsumer(spec, this.groups, this.logger, this.scope);
    this.consumers.set(spec.name, consumer);
    return consumer;
  }

  get(name: string): ManagedConsumer | undefined {
    return this.consumers.get(name);
  }

  list(): ManagedConsumer[] {
    return [...this.consumers.values()];
  }

  /** Starts a registered consumer, paused if its persisted flag says so. */
  async start(name: string): Promise<void> {
    const consumer = this.required(name);
    await consumer.start(await this.readPaused(name));
    this.ensureTimer();
  }

  async stop(name: string): Promise<void> {
    await this.required(name).stop();
    if (this.list().every((c) => !c.isStarted)) this.clearTimer();
  }

  /**
   * Persists the paused flag, then applies it here at once (resolves once this process has stopped
   * delivering, batch in flight settled, or has subscribed again). Other instances follow within one
   * heartbeat period.
   */
  async setPaused(name: string, paused: boolean, by: string): Promise<void> {
    const consumer = this.required(name);
    this.pauseRequestsInFlight += 1;
    this.pauseRequestEdges += 1;
    try {
      await this.store.setMeta(pausedKey(name), {
        paused,
        changedAt: new Date().toISOString(),
        changedBy: by,
      });
      await consumer.setPaused(paused);
    } finally {
      this.pauseRequestsInFlight -= 1;
      this.pauseRequestEdges += 1;
    }
  }

  private required(name: string): ManagedConsumer {
    const consumer = this.consumers.get(name);
    if (!consumer) throw new Error(`no consumer named ${name}`);
    return consumer;
  }

  private async readPaused(name: string): Promise<boolean> {
    const value = await this.store.getMeta(pausedKey(name));
    return value?.paused === true;
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.onTick(), this.options.heartbeatMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async onTick(): Promise<void> {
    const now = new Date();
    for (const consumer of this.consumers.values()) consumer.tick(now);
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      for (const consumer of this.consumers.values()) {
        if (!consumer.isStarted) continue;
        const edges = this.pauseRequestEdges;
        const paused = await this.readPaused(consumer.name);
        // A flag read while this process paused or resumed may predate that request: applying it would undo
        // the request (a paused projection delivering until the next tick). The next tick reads it again.
        if (this.pauseRequestsInFlight > 0 || this.pauseRequestEdges !== edges) continue;
        await consumer.setPaused(paused);
      }
      this.refreshFailed = false;
    } catch (error) {
      if (!this.refreshFailed) this.logger.warn(`cannot re-read the paused flags: ${errorText(error)}`);
      this.refreshFailed = true;
    } finally {
      this.refreshing = false;
    }
  }
}
