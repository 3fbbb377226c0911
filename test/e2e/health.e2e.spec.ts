import { jest } from '@jest/globals';
import { EventStore } from '../../src/event-store/event-store.port.js';
import {
  ProjectionObserver,
  type ProjectionObservation,
} from '../../src/operations/application/projection-observer.js';
import { ReadStore } from '../../src/read-side/read-store.port.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const ALL_UP = { status: 'up', components: { eventStore: 'up', readStore: 'up', projections: 'up' } };

describe('/health (terminus): anonymous, up/down per component, no details', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('live and ready answer up with every component, to anyone', async () => {
    await t.http.get('/health/live').expect(200, { status: 'up' });
    const res = await t.http.get('/health/ready').expect(200);
    expect(res.body).toEqual(ALL_UP);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });

  it('ready is 503 when the read store is down — and says only that', async () => {
    await t.app.get(ReadStore).close();
    const res = await t.http.get('/health/ready').expect(503);
    // (Projections cannot make progress without their store either; that is theirs to say.)
    expect(res.body).toEqual({
      status: 'down',
      components: { eventStore: 'up', readStore: 'down', projections: expect.stringMatching(/^(up|down)$/) },
    });
    await t.http.get('/health/live').expect(200, { status: 'up' });
  });

  it('ready is 503 when the event store is down', async () => {
    await t.app.get(EventStore).close();
    const res = await t.http.get('/health/ready').expect(503);
    expect(res.body.status).toBe('down');
    expect(res.body.components.eventStore).toBe('down');
    // Nothing but up/down: no error message, no timing, no stack.
    expect(JSON.stringify(res.body)).not.toMatch(/message|error|responseTime|closed|sqlite/i);
  });

  it('ready is 503 when a projection does not make progress (stalled or faulted heartbeat)', async () => {
    const observer = t.app.get(ProjectionObserver);
    const stalled: ProjectionObservation = {
      name: 'orders',
      status: 'stalled',
      healthy: false,
      lagEvents: 3,
      lagSeconds: 42,
      eventsApplied: 0,
      parked: 0,
      rebuild: null,
    };
    const spy = jest.spyOn(observer, 'observe').mockResolvedValue([stalled]);
    const res = await t.http.get('/health/ready').expect(503);
    expect(res.body).toEqual({
      status: 'down',
      components: { eventStore: 'up', readStore: 'up', projections: 'down' },
    });
    expect(JSON.stringify(res.body)).not.toContain('orders');
    spy.mockRestore();
    await t.http.get('/health/ready').expect(200, ALL_UP);
  });

  it('a component that hangs is down after the probe timeout, not a hung probe', async () => {
    const events = t.app.get(EventStore);
    const spy = jest.spyOn(events, 'streamRevision').mockReturnValue(new Promise(() => undefined));
    const started = Date.now();
    const res = await t.http.get('/health/ready').expect(503);
    expect(res.body.components.eventStore).toBe('down');
    expect(Date.now() - started).toBeLessThan(5000);
    spy.mockRestore();
  });
});
