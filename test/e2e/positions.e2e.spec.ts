import { randomUUID } from 'node:crypto';
import { newEvent } from '../contract/event-store.contract.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Positions are the store's (event-store.port.ts): one it never handed out is the caller's mistake, a 400
 * problem where it reaches HTTP — here the audit replay's `afterPosition` — never a 500.
 */
describe('positions over HTTP', () => {
  let t: TestApp;
  let auditor: string;
  let handedOut: bigint;

  beforeAll(async () => {
    t = await startTestApp();
    auditor = t.bearer('aud-1', 'auditor');
    ({ position: handedOut } = await t.events.append(
      `cart-${randomUUID()}`,
      [newEvent('Anything')],
      'no_stream',
    ));
    await t.events.append(`cart-${randomUUID()}`, [newEvent('Anything')], 'no_stream');
  });
  afterAll(async () => {
    await t.close();
  });

  it('a replay after a position the store never handed out is a 400 problem naming the position', async () => {
    // The embedded store numbers its events from 1: 0 was never handed out.
    const res = await t.http.get('/audit/events?afterPosition=0').set('authorization', auditor);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, code: 'INVALID_POSITION' });
    expect(res.body.detail).toMatch(/Position 0 is not a position of this event store/);
  });

  it('a position it handed out is accepted', async () => {
    await t.http.get(`/audit/events?afterPosition=${handedOut}`).set('authorization', auditor).expect(200);
  });
});
