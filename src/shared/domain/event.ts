/**
 * A domain event: a past-tense fact. `type` names it (no `Event` suffix), `data` is its JSON payload.
 * Metadata (who, when, why) travels beside it in the event store, never inside the domain decision.
 */
export interface DomainEvent<Type extends string = string, Data extends object = object> {
  readonly type: Type;
  readonly data: Data;
}

/**
 * A pure decider: `decide` turns a command and the current state into new events (or throws a DomainError);
 * `evolve` folds one event into the state. No clock, randomness or I/O: time and ids arrive in the command.
 */
export interface Decider<Command, State, Event extends DomainEvent> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  readonly initialState: State;
}

/** Exhaustiveness guard for `switch` statements over discriminated unions. */
export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
}
