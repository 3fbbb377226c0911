import type { ConsumerGroups } from '../../event-store/consumer-groups.port.js';
import type { EventStore } from '../../event-store/event-store.port.js';
import { stalenessAt } from '../../shared/application/freshness-read.js';
import type { AnyProjection } from './projection.js';
import { projectionGroup } from './projection-supervisor.js';

/** Parked events read to find the oldest appended one (the port lists them by when they were parked). */
export const PARKED_SCAN = 100;

/**
 * How stale read-model data is, by the definitions of docs/consistency.md#staleness, measured against the
 * event store (so every instance answers the same, whichever runs the projection):
 *
 * - a **document** reflecting revision R of its stream trails by the time since the append of the stream's
 *   event R + 1 — the first one it does not reflect — or 0 when there is none (one indexed read of one event);
 * - a **list** of a read model trails by the projection's lag in time: the time since the append of the
 *   oldest matching event the projection has not applied — the first after its group's checkpoint, or a
 *   parked one, whichever was appended first (0 when there is none).
 *
 * The list form is an upper bound for every document of the read model. Events of a stream held for a retry
 * (behind the checkpoint, not parked yet: seconds, before they are parked) are not seen by it — the port does
 * not list them; a document's own staleness does count them.
 */
export class ReadModelStaleness {
  constructor(
    private readonly events: EventStore,
    private readonly groups: ConsumerGroups,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Milliseconds a document reflecting `revision` of `streamId` trails the event store. */
  async ofDocument(streamId: string, revision: bigint): Promise<number> {
    const [next] = await this.events.readStream(streamId, { from: revision + 1n, limit: 1 });
    return stalenessAt(this.clock(), next ? next.created.getTime() : null);
  }

  /** Milliseconds the projection's read model, as a whole, trails the event store (its lag in time). */
  async ofProjection(projection: AnyProjection): Promise<number> {
    const group = projectionGroup(projection);
    const info = await this.groups.groupInfo(group);
    const [oldest] = await this.events.readAll({
      after: info.checkpoint ?? -1n,
      eventTypes: projection.eventTypes,
      limit: 1,
    });
    let first = oldest ? oldest.created.getTime() : null;
    if (info.parkedCount > 0) {
      for (const { event } of await this.groups.listParked(group, { limit: PARKED_SCAN })) {
        const created = event.created.getTime();
        if (first === null || created < first) first = created;
      }
    }
    return stalenessAt(this.clock(), first);
  }
}
