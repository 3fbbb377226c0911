import {
  DomainError,
  type Decider,
  type DomainErrorKind,
  type DomainEvent,
} from '../../src/shared/domain/index.js';

/**
 * Given/when/then over a pure decider (Emmett style):
 *
 *   const spec = deciderSpec(cartDecider);
 *   spec.given([opened]).when(addItem).then([itemAdded]);
 *   spec.given([opened, checkedOut]).when(addItem).thenThrows('CART_CLOSED', 'conflict');
 *   spec.given([opened, itemAdded]).thenState({ ...expectedState });
 *
 * The given events, the command and the state handed to `decide` are deep-frozen copies, so a decider that mutates its
 * input fails loudly instead of passing by accident.
 */
export interface DeciderSpec<Command, State, Event extends DomainEvent> {
  given(events: readonly Event[]): Given<Command, State, Event>;
}

export interface Given<Command, State, Event extends DomainEvent> {
  /** The state folded from the given events. */
  readonly state: State;
  when(command: Command): When<State, Event>;
  /** Asserts that folding the given events yields exactly `expected`. */
  thenState(expected: State): void;
}

export interface When<State, Event extends DomainEvent> {
  /** Asserts that the command is accepted and produces exactly these events; returns them. */
  then(expected: readonly Event[]): Event[];
  /** Asserts that the command is refused with this stable code (and kind), producing nothing; returns the error. */
  thenThrows(code: string, kind?: DomainErrorKind): DomainError;
  /** Asserts that the command is accepted and that the state after its events is exactly `expected`. */
  thenState(expected: State): void;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export function deciderSpec<Command, State, Event extends DomainEvent>(
  decider: Decider<Command, State, Event>,
): DeciderSpec<Command, State, Event> {
  const fold = (state: State, events: readonly Event[]): State =>
    events.reduce((current, event) => decider.evolve(current, deepFreeze(structuredClone(event))), state);

  return {
    given(events) {
      const state = deepFreeze(fold(structuredClone(decider.initialState), events));
      const decide = (command: Command): { events: Event[] } | { error: unknown } => {
        try {
          return { events: decider.decide(deepFreeze(structuredClone(command)), state) };
        } catch (error) {
          return { error };
        }
      };
      const accepted = (command: Command): Event[] => {
        const outcome = decide(command);
        if ('error' in outcome) {
          const { error } = outcome;
          const why = error instanceof DomainError ? `${error.code} (${error.message})` : String(error);
          throw new Error(`expected the command to be accepted, but it was refused: ${why}`);
        }
        return outcome.events;
      };
      return {
        state,
        thenState(expected) {
          expect(state).toEqual(expected);
        },
        when(command) {
          return {
            then(expected) {
              const produced = accepted(command);
              expect(produced).toEqual(expected);
              return produced;
            },
            thenThrows(code, kind) {
              const outcome = decide(command);
              if (!('error' in outcome)) {
                throw new Error(
                  `expected ${code} to be thrown, but the command produced ${JSON.stringify(outcome.events)}`,
                );
              }
              const { error } = outcome;
              expect(error).toBeInstanceOf(DomainError);
              const domainError = error as DomainError;
              expect({ code: domainError.code, kind: domainError.kind }).toEqual({
                code,
                kind: kind ?? domainError.kind,
              });
              return domainError;
            },
            thenState(expected) {
              expect(fold(state, accepted(command))).toEqual(expected);
            },
          };
        },
      };
    },
  };
}
