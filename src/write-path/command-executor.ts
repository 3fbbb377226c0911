import type { DomainEvent } from '../shared/domain/index.js';
import { type AggregateStore } from './aggregate-store.js';
import type { AggregateType, LoadedAggregate, PendingEvent } from './aggregate-type.js';
import { WrongExpectedRevisionError, type JsonObject } from '../event-store/event-store.port.js';
import { type Clock } from '../shared/application/clock.js';
import type { CommandContext } from '../shared/application/command-context.js';
import type { CommandObserver } from './command-observer.js';
import {
  ConcurrencyConflictError,
  IdempotencyKeyReusedError,
  PreconditionFailedError,
} from '../shared/application/errors.js';
import { randomId, uuidFromName } from '../shared/application/ids.js';
import { KeyedMutex } from './keyed-mutex.js';

/** How one use case runs against one aggregate. */
export interface CommandSpec<State, Event extends DomainEvent, Result> {
  /** Name recorded in event metadata (e.g. `AddItem`). */
  readonly commandType: string;
  /** Schema version of the events this use case appends. */
  readonly schemaVersion: number;
  /**
   * Throws ResourceNotFoundError when the aggregate does not exist (unless the command creates it) or the
   * actor may not see it. Runs before anything else, so nothing leaks about other customers' aggregates.
   */
  authorize(aggregate: LoadedAggregate<State>): void;
  /** The pure decision: new events, or a DomainError. */
  decide(state: State): Event[];
  /** Extra response fields derived from the state after the command (e.g. the order id of a checkout). */
  result(state: State): Result;
}

export interface CommandOutcome<Result> {
  readonly streamId: string;
  /** Revision of the stream's last event after the command. */
  readonly revision: bigint;
  /** Global position of the last appended event; null for an idempotent replay. */
  readonly position: bigint | null;
  /** True when the request was a retry of an earlier one with the same key: nothing was appended. */
  readonly replayed: boolean;
  readonly result: Result;
  readonly state: unknown;
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

  execute<State, Event extends DomainEvent, Result>(
    type: AggregateType<State, Event>,
    id: string,
    context: CommandContext,
    spec: CommandSpec<State, Event, Result>,
  ): Promise<CommandOutcome<Result>> {
    const observer = this.observer;
    const started = observer ? performance.now() : 0;
    const trace: RunTrace = { conflicts: 0, appended: 0, revision: null, eventIds: [] };
    const streamId = `${type.category}-${id}`;
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

  private async run<State, Event extends DomainEvent, Result>(
    type: AggregateType<State, Event>,
    id: string,
    context: CommandContext,
    spec: CommandSpec<State, Event, Result>,
    trace: RunTrace,
  ): Promise<CommandOutcome<Result>> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.aggregates.load(type, id);
      spec.authorize(current);

      const key = context.idempotencyKey;
      if (key !== null) {
        const seen = current.idempotency.get(key);
        if (seen) {
          if (seen.requestHash !== context.requestHash) throw new IdempotencyKeyReusedError(key);
          return this.outcome(current, seen.revision, null, true, spec);
        }
      }

      const revision = current.revision === 'no_stream' ? null : current.revision;
      if (context.expectedRevision !== null && context.expectedRevision !== revision) {
        throw new PreconditionFailedError(current.streamId, revision);
      }

      const events = spec.decide(current.state);
      const pending = this.toPending(current.streamId, events, context, spec);
      try {
        const { aggregate, position } = await this.aggregates.append(type, current, pending);
        trace.appended = pending.length;
        trace.revision = aggregate.revision as bigint;
        if (this.observer) trace.eventIds = pending.map((p) => p.id);
        return this.outcome(aggregate, aggregate.revision as bigint, position, false, spec);
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        trace.conflicts++;
        const actual = error.actual === 'no_stream' ? null : error.actual;
        // A client that named the revision it decided on must decide again itself.
        if (context.expectedRevision !== null) throw new PreconditionFailedError(current.streamId, actual);
        if (attempt >= this.options.retries) throw new ConcurrencyConflictError(current.streamId, actual);
      }
    }
  }

  private outcome<State, Result>(
    aggregate: LoadedAggregate<State>,
    revision: bigint,
    position: bigint | null,
    replayed: boolean,
    spec: CommandSpec<State, DomainEvent, Result>,
  ): CommandOutcome<Result> {
    return {
      streamId: aggregate.streamId,
      revision,
      position,
      replayed,
      result: spec.result(aggregate.state),
      state: aggregate.state,
    };
  }

  private toPending<Event extends DomainEvent>(
    streamId: string,
    events: Event[],
    context: CommandContext,
    spec: { commandType: string; schemaVersion: number },
  ): PendingEvent<Event>[] {
    const occurredAt = this.clock.now().toISOString();
    const base: JsonObject = {
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
