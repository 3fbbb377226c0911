import { DomainError, type Decider, type DomainEvent } from '../../src/shared/domain/index.js';
import { deciderSpec } from '../support/decider-spec.js';

/** A toy counter, to check that the helper fails when it should (a helper that never fails proves nothing). */
type Incremented = DomainEvent<'Incremented', { by: number }>;
type Increment = { type: 'Increment'; by: number };
interface Counter {
  value: number;
}

const counter = (decide: Decider<Increment, Counter, Incremented>['decide']) =>
  deciderSpec<Increment, Counter, Incremented>({
    initialState: { value: 0 },
    evolve: (state, event) => ({ value: state.value + event.data.by }),
    decide,
  });

const incremented = (by: number): Incremented => ({ type: 'Incremented', data: { by } });

const honest = counter(({ by }, state) => {
  if (by <= 0) throw new DomainError('NOT_POSITIVE', 'must be positive', 'invalid');
  if (state.value + by > 10) throw new DomainError('TOO_MUCH', 'at most 10');
  return [incremented(by)];
});

describe('deciderSpec', () => {
  it('folds the given events and checks the produced events and state', () => {
    const given = honest.given([incremented(2), incremented(3)]);
    expect(given.state).toEqual({ value: 5 });
    given.thenState({ value: 5 });
    expect(given.when({ type: 'Increment', by: 1 }).then([incremented(1)])).toEqual([incremented(1)]);
    given.when({ type: 'Increment', by: 5 }).thenState({ value: 10 });
    given.when({ type: 'Increment', by: 6 }).thenThrows('TOO_MUCH', 'conflict');
    given.when({ type: 'Increment', by: 0 }).thenThrows('NOT_POSITIVE');
  });

  it('fails when the events differ, or when the command is refused', () => {
    const when = honest.given([]).when({ type: 'Increment', by: 1 });
    expect(() => when.then([incremented(2)])).toThrow();
    expect(() => when.then([incremented(1), incremented(1)])).toThrow();
    expect(() => honest.given([]).when({ type: 'Increment', by: 0 }).then([])).toThrow(/NOT_POSITIVE/);
    expect(() => honest.given([]).when({ type: 'Increment', by: 0 }).thenState({ value: 0 })).toThrow(
      /NOT_POSITIVE/,
    );
  });

  it('fails when nothing is thrown, or another code, kind or error is thrown', () => {
    expect(() => honest.given([]).when({ type: 'Increment', by: 1 }).thenThrows('TOO_MUCH')).toThrow(
      /produced/,
    );
    const refused = honest.given([]).when({ type: 'Increment', by: 0 });
    expect(() => refused.thenThrows('TOO_MUCH')).toThrow();
    expect(() => refused.thenThrows('NOT_POSITIVE', 'conflict')).toThrow();
    const crashing = counter(() => {
      throw new TypeError('NOT_POSITIVE');
    });
    expect(() => crashing.given([]).when({ type: 'Increment', by: 1 }).thenThrows('NOT_POSITIVE')).toThrow();
  });

  it('catches a decider that mutates its state or command', () => {
    const mutating = counter((command, state) => {
      state.value += command.by;
      return [];
    });
    expect(() => mutating.given([]).when({ type: 'Increment', by: 1 }).then([])).toThrow(/read only/);
  });
});
