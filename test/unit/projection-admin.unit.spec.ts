import { ConfigError, loadConfig } from '../../src/config/app-config.js';
import { jobView } from '../../src/operations/application/admin-views.js';
import { diffFields } from '../../src/read-side/runtime/jobs/document-diff.js';
import { toStored, type JobRecord } from '../../src/read-side/runtime/jobs/job.js';
import { sameJson } from '../../src/read-side/same-json.js';

describe('diffFields (verify: where a live document differs from the expected one)', () => {
  it('reports the differing leaves with their paths, nothing when equal (key order ignored)', () => {
    expect(diffFields({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
    expect(
      diffFields(
        { status: 'lost', total: 5, lines: [{ sku: 'a', quantity: 2 }], extra: true },
        {
          status: 'paid',
          total: 5,
          lines: [
            { sku: 'a', quantity: 3 },
            { sku: 'b', quantity: 1 },
          ],
          'odd key': 1,
        },
        50,
        'data',
      ),
    ).toEqual([
      { path: 'data.status', live: 'lost', expected: 'paid' },
      { path: 'data.lines[0].quantity', live: 2, expected: 3 },
      { path: 'data.lines[1]', live: null, expected: { sku: 'b', quantity: 1 }, presence: 'expected-only' },
      { path: 'data.extra', live: true, expected: null, presence: 'live-only' },
      { path: 'data["odd key"]', live: null, expected: 1, presence: 'expected-only' },
    ]);
  });

  it('compares types strictly and stops at the cap', () => {
    expect(diffFields({ n: 1 }, { n: '1' })).toEqual([{ path: 'n', live: 1, expected: '1' }]);
    expect(diffFields({ a: [1] }, { a: { 0: 1 } })).toEqual([{ path: 'a', live: [1], expected: { 0: 1 } }]);
    expect(diffFields(1, 2)).toEqual([{ path: '(document)', live: 1, expected: 2 }]);
    const many = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, i]));
    expect(diffFields(many, {}, 3)).toHaveLength(3);
  });

  it('sameJson ignores key order only', () => {
    expect(sameJson({ a: [1, { b: 2, c: 3 }] }, { a: [1, { c: 3, b: 2 }] })).toBe(true);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson({ a: null }, {})).toBe(false);
    expect(sameJson(null, {})).toBe(false);
  });
});

describe('jobView', () => {
  const job: JobRecord = {
    id: '0b2c8a1e-6b1f-4c39-9a44-3f0f0f0f0f0f',
    kind: 'rebuild',
    projection: 'orders',
    state: 'running',
    phase: 'building',
    generation: 3,
    fromGeneration: 2,
    replacedGeneration: null,
    prepared: true,
    position: '-1',
    eventsDone: 250,
    eventsTotal: 1000,
    rate: 125.5,
    etaSeconds: 6,
    startedAt: '2026-11-24T10:00:00.000Z',
    updatedAt: '2026-11-24T10:00:02.000Z',
    switchedAt: null,
    dropAt: null,
    finishedAt: null,
    error: null,
    cancelRequested: false,
    requestedBy: 'op',
    repair: false,
    owner: 'instance-1',
    heartbeatAt: '2026-11-24T10:00:02.000Z',
    skipped: [],
    skippedCount: 0,
    result: null,
  };

  it('answers progress, the position as a number (null before any) and the job location', () => {
    expect(jobView(job)).toMatchObject({
      progress: 0.25,
      position: null,
      links: { self: `/admin/jobs/${job.id}` },
    });
    expect(jobView({ ...job, position: '4711' }).position).toBe(4711);
    expect(jobView({ ...job, eventsTotal: 0 }).progress).toBe(0);
    expect(jobView({ ...job, state: 'succeeded', eventsDone: 0, eventsTotal: 0 }).progress).toBe(1);
    expect(jobView({ ...job, eventsDone: 1200 }).progress).toBe(1);
  });

  it('is stored as plain JSON (what the compare-and-set compares)', () => {
    const stored = toStored({ ...job, rate: Number.NaN });
    expect(stored.rate).toBeNull();
    expect(JSON.parse(JSON.stringify(stored))).toEqual(stored);
  });
});

describe('projection admin configuration', () => {
  const secret = {
    AUTH_JWT_SECRET: 'a-secret-of-sufficient-length',
    PAYMENT_WEBHOOK_SECRET: 'a-payment-webhook-secret-of-sufficient-length',
  };

  it('has defaults for stalls, heartbeats and jobs', () => {
    const config = loadConfig(secret);
    expect(config.readSide).toMatchObject({ stallMs: 10_000, heartbeatMs: 1000 });
    expect(config.projectionJobs).toEqual({
      pageSize: 2000,
      pageDelayMs: 0,
      dropGraceMs: 5000,
      leaseMs: 15_000,
    });
  });

  it('reads and validates them', () => {
    const config = loadConfig({
      ...secret,
      PROJECTION_STALL_MS: '2500',
      PROJECTION_HEARTBEAT_MS: '250',
      REBUILD_PAGE_SIZE: '500',
      REBUILD_PAGE_DELAY_MS: '10',
      REBUILD_DROP_GRACE_MS: '0',
      PROJECTION_JOB_LEASE_MS: '60000',
    });
    expect(config.readSide).toMatchObject({ stallMs: 2500, heartbeatMs: 250 });
    expect(config.projectionJobs).toEqual({
      pageSize: 500,
      pageDelayMs: 10,
      dropGraceMs: 0,
      leaseMs: 60_000,
    });
    try {
      loadConfig({
        ...secret,
        PROJECTION_STALL_MS: '10',
        PROJECTION_HEARTBEAT_MS: 'often',
        REBUILD_PAGE_SIZE: '0',
        REBUILD_PAGE_DELAY_MS: '-1',
        REBUILD_DROP_GRACE_MS: '1.5',
        PROJECTION_JOB_LEASE_MS: '5',
      });
      throw new Error('expected ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const text = (error as ConfigError).problems.join('\n');
      for (const name of [
        'PROJECTION_STALL_MS',
        'PROJECTION_HEARTBEAT_MS',
        'REBUILD_PAGE_SIZE',
        'REBUILD_PAGE_DELAY_MS',
        'REBUILD_DROP_GRACE_MS',
        'PROJECTION_JOB_LEASE_MS',
      ])
        expect(text).toContain(name);
    }
  });
});
