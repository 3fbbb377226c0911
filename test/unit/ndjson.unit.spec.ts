import { Readable } from 'node:stream';
import type { AuditEvent } from '../../src/audit/application/audit-event.js';
import type { ReplayPages } from '../../src/audit/application/queries/replay-events/replay-events.query.js';
import { ndjson } from '../../src/audit/http/ndjson.js';
import { EventStoreUnavailableError } from '../../src/event-store/event-store.port.js';

function event(position: number): AuditEvent {
  return {
    position,
    stream: 'cart-0b9f3f7e-8a61-4d3e-9a55-1c2b3d4e5f60',
    revision: position - 1,
    id: `id-${position}`,
    type: 'ItemAdded',
    data: { sku: 'a' },
    metadata: { correlationId: 'c' },
    created: '2026-05-02T14:03:00.000Z',
  };
}

async function* pages(list: AuditEvent[][], failWith?: Error): ReplayPages {
  for (const page of list) yield page;
  if (failWith !== undefined) throw failWith;
}

async function body(first: AuditEvent[] | null, rest: ReplayPages, unexpected: unknown[] = []) {
  const result: IteratorResult<AuditEvent[]> =
    first === null ? { done: true, value: undefined } : { done: false, value: first };
  let text = '';
  for await (const chunk of Readable.from(
    ndjson(result, rest, (e) => unexpected.push(e)),
    { objectMode: false },
  )) {
    text += String(chunk);
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('NDJSON replay body', () => {
  it('one event per line, in order, ending with a newline', async () => {
    const lines = await body([event(1), event(2)], pages([[event(3)], [event(4), event(5)]]));
    expect(lines.map((l) => l.position)).toEqual([1, 2, 3, 4, 5]);
  });

  it('is empty when there is nothing to replay', async () => {
    expect(await body(null, pages([]))).toEqual([]);
  });

  it('a failure mid-stream ends the body with one problem line that says where to resume', async () => {
    const unexpected: unknown[] = [];
    const failure = new EventStoreUnavailableError('gone');
    const lines = await body([event(1)], pages([[event(2), event(3)]], failure), unexpected);
    expect(lines.slice(0, 3).map((l) => l.position)).toEqual([1, 2, 3]);
    expect(lines[3]).toEqual({
      error: expect.objectContaining({
        status: 503,
        code: 'EVENT_STORE_UNAVAILABLE',
        type: expect.stringContaining('event-store-unavailable'),
        resumeAfterPosition: 3,
      }),
    });
    expect(lines).toHaveLength(4);
    expect(unexpected).toEqual([failure]);
  });

  it('an unexpected error is reported as a 500 problem without its message, and logged', async () => {
    const unexpected: unknown[] = [];
    const lines = await body([event(7)], pages([], new Error('secret internals')), unexpected);
    expect(lines[1]).toEqual({
      error: expect.objectContaining({ status: 500, code: 'INTERNAL_ERROR', resumeAfterPosition: 7 }),
    });
    expect(JSON.stringify(lines)).not.toContain('secret internals');
    expect(unexpected).toHaveLength(1);
  });

  it('stops pulling pages when the consumer goes away', async () => {
    let pulled = 0;
    let finished = false;
    async function* endless(): ReplayPages {
      try {
        for (let p = 2; ; p++) {
          pulled++;
          yield [event(p)];
        }
      } finally {
        finished = true;
      }
    }
    const unexpected: unknown[] = [];
    const stream = Readable.from(
      ndjson({ done: false, value: [event(1)] }, endless(), (error) => unexpected.push(error)),
      {
        objectMode: false,
        highWaterMark: 1024,
      },
    );
    let seen = 0;
    for await (const chunk of stream) {
      seen += String(chunk).split('\n').length - 1;
      if (seen >= 10) break; // like a client that disconnects: the stream is destroyed
    }
    // Destroying ends the generators (their finally blocks run) before the stream says it is closed.
    if (!stream.closed) await new Promise((resolve) => stream.once('close', resolve));
    expect(finished).toBe(true);
    expect(pulled).toBeLessThan(100);
    // A client going away is not a failure worth logging.
    expect(unexpected).toEqual([]);
  });
});
