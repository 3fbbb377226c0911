import { streamName, type DomainEvent } from '../shared/domain/index.js';
import { type AggregateStore } from './aggregate-store.js';
import { canChange, type AggregateType, type LoadedAggregate, type PendingEvent } from './aggregate-type.js';
import { WrongExpectedRevisionError, type JsonObject } from '../event-store/event-store.port.js';
import { type Clock } from '../shared/application/clock.js';
import { mayChange } from '../shared/application/access-policy.js';
import type { CommandContext } from '../shared/application/command-context.js';
import type { CommandObserver } from './command-observer.js';
import {
  ConcurrencyConflictError,
  IdempotencyKeyReusedError,
  PreconditionFailedError,
  ResourceNotFoundError,
} from '../shared/application/errors.js';
import type { MutationResult } from '../shared/application/mutation-result.js';
import { randomId, uuidFromName } from '../shared/application/ids.js';
import { KeyedMutex } from './keyed-mutex.js';

/** How one use case runs against one aggregate. */
export interface CommandSpec<State, Event extends DomainEvent> {
  /** Name recorded in event metadata (e.g. `AddItem`). */
  readonly commandType: string;
  /** Schema version of the events this use case appends. */
  readonly schemaVersion: number;
  /**
   * The command may create the aggregate (OpenCart, PlaceOrder). Any other command on an aggregate that does
   * not exist, or that the actor may not change (the aggregate type's access policy), is ResourceNotFoundError
   * — checked before anything else, so nothing leaks about other customers' aggregates.
   */
  readonly creates: boolean;
  /** The pure decision: new events (none: nothing to change), or a DomainError. */
  decide(state: State): Event[];
  /** Recorded in every event's metadata besides the usual (e.g. the payment provider's event id). */
  readonly metadata?: JsonObject;
}

/** What every command answers (a MutationResult), with the state after it for use cases that need more. */
export interface CommandOutcome<State> extends MutationResult {
  readonly streamId: string;
  readonly state: State;
}

export interface CommandExecutorOptions {
  /** How often a command is re-decided on fresh state after losing a race, before giving up with 409. */
  readonly retries: number;
}

/** Counts of one command's run, for its CommandReport. */
interface RunTrace {
  conflicts: number;
  appended: number;
  revision: bigint | null;
  eventIds: readonly string[];
}

/**
 * The write path shared by every command handler: load (snapshot + tail, or cache), authorize, answer a
 * retried request from the idempotency memory, check If-Match, decide, append with the expected revision,
 * and on a lost race re-decide on fresh state (bounded). No update is ever lost: every append is
 * conditional on the revision the decision was made on.
 */
export class CommandExecutor {
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly aggregates: AggregateStore,
    private readonly clock: Clock,
    private readonly options: CommandExecutorOptions,
    /** Told about every command when it ends (metrics); synchronous and cheap, never on the I/O path. */
    private readonly observer: CommandObserver | null = null,
  ) {}

  execute<State, Event extends DomainEvent>(
    type: AggregateType<State, Event>,
    id: string,
    context: CommandContext,
    spec: CommandSpec<State, Event>,
  ): Promise<CommandOutcome<State>> {
    const observer = this.observer;
    const started = observer ? performance.now() : 0;
    const trace: RunTrace = { conflicts: 0, appended: 0, revision: null, eventIds: [] };
    const streamId = streamName(type.category, id);
    const running = this.locks.run(streamId, () => this.run(type, id, context, spec, trace));
    if (!observer) return running;
    const report = (replayed: boolean, error?: unknown): void => {
      try {
        observer.commandEnded({
          command: spec.commandType,
          category: type.category,
          streamId,
          revision: trace.revision,
          eventIds: trace.eventIds,
          seconds: (performance.now() - started) / 1000,
          appended: trace.appended,
          replayed,
          conflicts: trace.conflicts,
          ...(error !== undefined && { error }),
        });
      } catch {
        // Metrics never fail a command.
      }
    };
    return running.then(
      (outcome) => {
        report(outcome.replayed);
        return outcome;
      },
      (error: unknown) => {
        report(false, error ?? new Error('command failed'));
        throw error;
      },
    );
  }

  private async run<State, Event extends DomainEvent>(
    type: AggregateType<State, Event>,
    id: string,
    context: CommandContext,
    spec: CommandSpec<State, Event>,
    trace: RunTrace,
  ): Promise<CommandOutcome<State>> {
    // Whether the state this run decides on is known to be current. One read from the store (a cache miss)
    // is: it comes after the request, so it holds every revision the client can have seen. A cached aggregate
    // may be behind when another instance (or process) appended since; an append on it fails its revision
    // check and is decided again, but a refusal (412, a domain error) or a "nothing to change" appends
    // nothing, so it is sent only once the revision it was decided on is checked against the store's.
    let verified = false;
    const streamId = streamName(type.category, id);
    for (;;) {
      if (!this.aggregates.isCached(streamId)) verified = true;
      const current = await this.aggregates.load(type, id);
      /** True when the store has moved past `current`: decide again on fresh state (at most once a run). */
      const behind = async (): Promise<boolean> => {
        if (verified) return false;
        verified = true;
        const fresh = await this.aggregates.loadConsistent(type, id);
        return fresh.revision !== current.revision;
      };
      const allowed = type.exists(current.state)
        ? canChange(type, context.actor, current.state)
        : spec.creates;
      if (!allowed) throw new ResourceNotFoundError(type.category, id);

      const key = context.idempotencyKey;
      if (key !== null) {
        const seen = current.idempotency.get(key);
        if (seen) {
          if (seen.requestHash !== context.requestHash) throw new IdempotencyKeyReusedError(key);
          return this.outcome(id, current, seen.revision, null, true);
        }
      }

      const revision = current.revision === 'no_stream' ? null : current.revision;
      if (context.expectedRevision !== null && context.expectedRevision !== revision) {
        // The client may have read a newer revision from another instance than this cache holds.
        if (await behind()) continue;
        throw new PreconditionFailedError(current.streamId, revision);
      }

      let events: Event[];
      try {
        events = spec.decide(current.state);
      } catch (error) {
        // A refusal (ITEM_NOT_IN_CART, CART_EMPTY, …) must not come from a state another instance moved past.
        if (await behind()) continue;
        throw error;
      }
      if (events.length === 0) {
        // Nothing to change (e.g. a price set to what it is, no refund due): answered as it stands.
        if (current.revision === 'no_stream') throw new ResourceNotFoundError(type.category, id);
        if (await behind()) continue;
        return this.outcome(id, current, current.revision, null, false);
      }
      if (current.revision === 'no_stream') {
        // A new aggregate: the actor must be allowed to change it as it will be (a shopper opens their own
        // cart; only an operator lists a product).
        const created = events.reduce((state, event) => type.evolve(state, event), current.state);
        if (!mayChange(type.access, context.actor, type.ownerOf(created))) {
          throw new ResourceNotFoundError(type.category, id);
        }
      }
      const pending = this.toPending(current.streamId, events, context, spec);
      try {
        const { aggregate, position, duplicate } = await this.aggregates.append(type, current, pending);
        trace.revision = aggregate.revision as bigint;
        // The store already held these very events (same ids: same key, same request), appended by an earlier
        // try this cache did not know of (another instance, or a lost answer): a replay, not a new write.
        if (duplicate) return this.outcome(id, aggregate, aggregate.revision as bigint, null, true);
        trace.appended = pending.length;
        if (this.observer) trace.eventIds = pending.map((p) => p.id);
        return this.outcome(id, aggregate, aggregate.revision as bigint, position, false);
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        trace.conflicts++;
        const actual = error.actual === 'no_stream' ? null : error.actual;
        // A client that named the revision it decided on must decide again itself.
        if (context.expectedRevision !== null) throw new PreconditionFailedError(current.streamId, actual);
        if (trace.conflicts > this.options.retries)
          throw new ConcurrencyConflictError(current.streamId, actual);
      }
    }
  }

  private outcome<State>(
    id: string,
    aggregate: LoadedAggregate<State>,
    revision: bigint,
    position: bigint | null,
    replayed: boolean,
  ): CommandOutcome<State> {
    return { id, streamId: aggregate.streamId, revision, position, replayed, state: aggregate.state };
  }

  private toPending<Event extends DomainEvent>(
    streamId: string,
    events: Event[],
    context: CommandContext,
    spec: { commandType: string; schemaVersion: number; metadata?: JsonObject },
  ): PendingEvent<Event>[] {
    const occurredAt = this.clock.now().toISOString();
    const base: JsonObject = {
      // First, so that none of the usual fields can be overridden.
      ...spec.metadata,
      correlationId: context.correlationId,
      causationId: context.causationId,
      actor: context.actor.id,
      occurredAt,
      schemaVersion: spec.schemaVersion,
      command: spec.commandType,
    };
    const key = context.idempotencyKey;
    if (key !== null) {
      base.idempotencyKey = key;
      base.requestHash = context.requestHash;
    }
    return events.map((event, index) => ({
      // Derived from key + request: a concurrent duplicate of the same request appends the same ids, which the
      // store treats as an idempotent re-append; another request under the same key gets other ids.
      id: key === null ? randomId() : uuidFromName(`${streamId}\n${key}\n${context.requestHash}\n${index}`),
      event,
      metadata: base,
    }));
  }
}
