import fc from 'fast-check';
import {
  correlationStreamOf,
  fromEsdbMetadata,
  toEsdbMetadata,
} from '../../src/event-store/esdb/esdb-mapping.js';
import type { JsonObject } from '../../src/event-store/event-store.port.js';

describe('EventStoreDB correlation metadata ($by_correlation_id)', () => {
  it('writes $correlationId and $causationId copies, which the projection keys $bc-<id> streams by', () => {
    expect(toEsdbMetadata({ correlationId: 'req-1', causationId: 'cause-1', actor: 'c-1' })).toStrictEqual({
      correlationId: 'req-1',
      causationId: 'cause-1',
      actor: 'c-1',
      $correlationId: 'req-1',
      $causationId: 'cause-1',
    });
    expect(correlationStreamOf('req-1')).toBe('$bc-req-1');
  });

  it('adds nothing when there is no correlation, and never overwrites a reserved property given on purpose', () => {
    expect(toEsdbMetadata({ schemaVersion: 1 })).toStrictEqual({ schemaVersion: 1 });
    expect(toEsdbMetadata({ correlationId: 'a', $correlationId: 'b' })).toStrictEqual({
      correlationId: 'a',
      $correlationId: 'b',
    });
  });

  it('round-trips any metadata exactly: the copies are dropped on read, anything else is kept', () => {
    const json: fc.Arbitrary<JsonObject> = fc.dictionary(
      fc.constantFrom('correlationId', 'causationId', '$correlationId', '$causationId', 'actor', 'x'),
      fc.oneof(fc.constantFrom('a', 'b'), fc.integer(), fc.constant(null)),
      { noNullPrototype: true },
    );
    fc.assert(
      fc.property(json, (metadata) => {
        // Metadata that already holds the copy itself is the one case that cannot round-trip (it reads back
        // without it); the service never writes such metadata.
        fc.pre(
          !(metadata.$correlationId !== undefined && metadata.$correlationId === metadata.correlationId) &&
            !(metadata.$causationId !== undefined && metadata.$causationId === metadata.causationId),
        );
        expect(fromEsdbMetadata(toEsdbMetadata(metadata))).toStrictEqual(metadata);
      }),
    );
  });
});
