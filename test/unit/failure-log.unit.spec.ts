import {
  describeError,
  errorField,
  RecurringFailures,
  type FailureLogLevel,
} from '../../src/shared/infrastructure/failure-log.js';

interface Line {
  readonly level: FailureLogLevel;
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** RecurringFailures on a clock and a timer the test moves by hand. */
function harness(options: { summaryEveryMs?: number; clearAfterMs?: number } = {}) {
  let now = 1_000_000;
  const timers: { at: number; work: () => void; cancelled: boolean }[] = [];
  const lines: Line[] = [];
  const failures = new RecurringFailures((level, fields, message) => lines.push({ level, fields, message }), {
    summaryEveryMs: options.summaryEveryMs ?? 60_000,
    clearAfterMs: options.clearAfterMs ?? 30_000,
    now: () => now,
    schedule: (work, ms) => {
      const timer = { at: now + ms, work, cancelled: false };
      timers.push(timer);
      return { cancel: () => (timer.cancelled = true) };
    },
  });
  /** Moves the clock, running the timers that come due on the way, in order. */
  const advance = (ms: number): void => {
    const end = now + ms;
    for (;;) {
      const next = timers
        .filter((t) => !t.cancelled && t.at <= end)
        .sort((a, b) => a.at - b.at)
        .at(0);
      if (!next) break;
      now = next.at;
      next.cancelled = true;
      next.work();
    }
    now = end;
  };
  return { failures, lines, advance };
}

describe('RecurringFailures: an expected failure is logged once per condition', () => {
  it('a line when it starts, a summary per period while it lasts, a line when it clears', () => {
    const { failures, lines, advance } = harness();
    // A store down for two and a half minutes, with a failing request every 100 ms.
    for (let t = 0; t < 150_000; t += 100) {
      failures.occurred('EVENT_STORE_UNAVAILABLE', 'database or disk is full (SQLITE_FULL)', {
        correlationId: `c-${t}`,
      });
      advance(100);
    }
    advance(60_000);
    expect(lines.map((l) => [l.level, l.fields.state])).toEqual([
      ['error', 'started'],
      ['warn', 'ongoing'],
      ['warn', 'ongoing'],
      ['info', 'cleared'],
    ]);
    const [started, firstSummary, , cleared] = lines;
    expect(started!.fields).toMatchObject({
      condition: 'EVENT_STORE_UNAVAILABLE',
      cause: 'database or disk is full (SQLITE_FULL)',
      correlationId: 'c-0',
    });
    expect(started!.message).toContain('EVENT_STORE_UNAVAILABLE: database or disk is full (SQLITE_FULL)');
    expect(firstSummary!.fields.occurrences).toBe(599); // after the first, within the minute
    expect(cleared!.fields).toMatchObject({ total: 1500, durationMs: 149_900 });
    expect(failures.isOngoing('EVENT_STORE_UNAVAILABLE')).toBe(false);
  });

  it('conditions are counted apart; one that comes back after clearing starts again', () => {
    const { failures, lines, advance } = harness();
    failures.occurred('READ_STORE_UNAVAILABLE', 'timeout');
    failures.occurred('EVENT_STORE_UNAVAILABLE', 'refused');
    failures.occurred('READ_STORE_UNAVAILABLE', 'timeout');
    advance(31_000);
    failures.occurred('READ_STORE_UNAVAILABLE', 'timeout');
    expect(lines.map((l) => `${String(l.fields.condition)} ${String(l.fields.state)}`)).toEqual([
      'READ_STORE_UNAVAILABLE started',
      'EVENT_STORE_UNAVAILABLE started',
      'READ_STORE_UNAVAILABLE cleared',
      'EVENT_STORE_UNAVAILABLE cleared',
      'READ_STORE_UNAVAILABLE started',
    ]);
    failures.close();
  });

  it('occurrences spaced less than the clearing time apart are one condition (a retry back-off)', () => {
    const { failures, lines, advance } = harness();
    for (let i = 0; i < 20; i++) {
      failures.occurred('ConsumerGroupWarning: consumer group carts: refused', '', {}, 'warn');
      advance(10_000);
    }
    expect(lines.map((l) => l.fields.state)).toEqual(['started', 'ongoing', 'ongoing', 'ongoing']);
    expect(lines[0]).toMatchObject({ level: 'warn' });
    expect(lines[0]!.fields).not.toHaveProperty('cause');
  });
});

describe('describeError and errorField', () => {
  it('the messages of an error and its causes, a cause’s code, nothing repeated, no stack', () => {
    const disk = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    const error = new Error('the embedded event store could not commit', { cause: disk });
    expect(describeError(error)).toBe(
      'the embedded event store could not commit: database or disk is full (SQLITE_FULL)',
    );
    const quoted = new Error('EventStoreDB is unavailable: connect ECONNREFUSED', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    expect(describeError(quoted)).toBe('EventStoreDB is unavailable: connect ECONNREFUSED');
    expect(describeError('plain')).toBe('plain');
  });

  it('a stack with the project’s paths made relative', () => {
    const error = new TypeError('boom');
    error.stack =
      'TypeError: boom\n    at f (file:///srv/app/dist/carts/x.js:1:2)\n    at g (/srv/app/dist/y.js:3:4)\n' +
      '    at h (file:///elsewhere/node_modules/@nestjs/core/z.js:5:6)';
    const field = errorField(error, '/srv/app');
    expect(field).toMatchObject({ type: 'TypeError', message: 'boom' });
    expect(field.stack).toBe(
      'TypeError: boom\n    at f (dist/carts/x.js:1:2)\n    at g (dist/y.js:3:4)\n' +
        '    at h (node_modules/@nestjs/core/z.js:5:6)',
    );
  });
});
