import { payOrder } from '../support/payments.js';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Response } from 'supertest';
import { applyDiff } from '../../src/audit/application/view-diff.js';
import { cartAggregate } from '../../src/carts/cart.aggregate.js';
import { cartView, type CartView } from '../../src/carts/read-model/cart.view.js';
import type { EventToAppend, RecordedEvent } from '../../src/event-store/event-store.port.js';
import { addItem, openCart } from '../support/cart-fixtures.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { textOrJson } from '../support/text-or-json.js';

interface AuditEventJson {
  position: number;
  stream: string;
  revision: number;
  id: string;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  created: string;
}

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The views of a cart at every revision: its stored events folded one by one with the domain's evolve. */
function viewsOf(id: string, events: readonly RecordedEvent[]): CartView[] {
  let state = cartAggregate.initialState;
  return events.map((recorded) => {
    state = cartAggregate.evolve(state, cartAggregate.toDomainEvent(recorded));
    return cartView(id, state);
  });
}

/** The response body as text, whatever its content type (NDJSON is not parsed by supertest). */
function text(res: Response): string {
  return res.body as string;
}

describe('audit over HTTP: time travel, diffs, raw events, replay, correlations', () => {
  let t: TestApp;
  let owner: string;
  let auditor: string;
  let operator: string;
  let stranger: string;
  let cartId: string;
  let orderId: string;
  let cartEvents: RecordedEvent[];

  /** GET with a token, and a raw-text parser so that NDJSON arrives as one string. */
  const get = (path: string, auth: string) => textOrJson(t.http.get(path).set('authorization', auth));

  const ndjsonLines = (res: Response): AuditEventJson[] =>
    text(res)
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as AuditEventJson);

  beforeAll(async () => {
    // Snapshots every 3 events, so that short test streams have snapshot streams next to them.
    t = await startTestApp({ SNAPSHOT_EVERY: '3' });
    owner = t.bearer('audit-owner', 'shopper');
    auditor = t.bearer('aud-1', 'auditor');
    operator = t.bearer('op-1', 'operator');
    stranger = t.bearer('someone-else', 'shopper');

    cartId = await openCart(t, owner);
    await addItem(t, owner, cartId, { sku: 'sku-a', quantity: 1, unitPrice: 500 });
    await addItem(t, owner, cartId, { sku: 'sku-b', quantity: 2, unitPrice: 300 });
    await t.http.patch(`/carts/${cartId}/items/sku-a`).set('authorization', owner).send({ quantity: 4 });
    await t.http.delete(`/carts/${cartId}/items/sku-b`).set('authorization', owner);
    await addItem(t, owner, cartId, { sku: 'sku-c', quantity: 1, unitPrice: 50 });
    await addItem(t, owner, cartId, { sku: 'sku-b', quantity: 1, unitPrice: 300 });
    const checkout = await t.http
      .post(`/carts/${cartId}/checkout`)
      .set('authorization', owner)
      .set('x-correlation-id', 'audit-checkout-1')
      .expect(200);
    orderId = checkout.body.orderId as string;
    expect(checkout.body.orderPlaced).toBe(true);
    cartEvents = await t.readStream(`cart-${cartId}`);
    expect(cartEvents).toHaveLength(8);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('GET /carts/:id/state', () => {
    it('atRevision: exactly the fold to that revision, for every revision, with its revision and instant', async () => {
      const expected = viewsOf(cartId, cartEvents);
      for (const [revision, view] of expected.entries()) {
        const res = await get(`/carts/${cartId}/state?atRevision=${revision}`, owner).expect(200);
        expect(res.body).toStrictEqual({
          data: view,
          meta: {
            revision,
            at: cartEvents[revision]!.created.toISOString(),
            source: 'event-store',
          },
        });
        expect(res.body.meta.at).toMatch(ISO_MS);
      }
    });

    it('asOf: the state as of the instant of each event; the future is the current state', async () => {
      const expected = viewsOf(cartId, cartEvents);
      for (const event of cartEvents) {
        const res = await get(`/carts/${cartId}/state?asOf=${event.created.toISOString()}`, auditor).expect(
          200,
        );
        // The last event recorded at or before that instant (others may share its millisecond).
        const last = cartEvents.filter((e) => e.created <= event.created).pop()!;
        expect(res.body.meta.revision).toBe(Number(last.revision));
        expect(res.body.data).toStrictEqual(expected[Number(last.revision)]);
      }
      const future = await get(`/carts/${cartId}/state?asOf=2999-01-01T00:00:00Z`, operator).expect(200);
      expect(future.body.meta.revision).toBe(7);
      expect(future.body.data.status).toBe('checked-out');
      const strong = await get(`/carts/${cartId}?consistency=strong`, owner).expect(200);
      expect(future.body.data).toStrictEqual(strong.body.data);
    });

    it('asOf with an offset is the same instant in UTC', async () => {
      const created = cartEvents[3]!.created;
      const shifted = new Date(created.getTime() + 2 * 3600_000).toISOString().replace('Z', '+02:00');
      const res = await get(`/carts/${cartId}/state?asOf=${encodeURIComponent(shifted)}`, auditor).expect(
        200,
      );
      expect(res.body.meta.revision).toBeGreaterThanOrEqual(3);
      expect(res.body.meta.at <= created.toISOString()).toBe(true);
    });

    it('asOf before the cart existed is a 404 that says so', async () => {
      const before = new Date(cartEvents[0]!.created.getTime() - 1).toISOString();
      const res = await get(`/carts/${cartId}/state?asOf=${before}`, auditor).expect(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({
        status: 404,
        code: 'NOT_FOUND_AT_INSTANT',
        firstEventAt: cartEvents[0]!.created.toISOString(),
      });
      expect(res.body.detail).toContain('did not exist yet');
    });

    it('a revision past the end is a 404 naming the last revision', async () => {
      const res = await get(`/carts/${cartId}/state?atRevision=8`, auditor).expect(404);
      expect(res.body).toMatchObject({ code: 'REVISION_NOT_FOUND', lastRevision: 7 });
      expect(res.body.detail).toContain('its last revision is 7');
    });

    it('both or neither parameter, and malformed values, are a 400 naming the field', async () => {
      const cases: [string, string][] = [
        ['', 'atRevision'],
        ['atRevision=1&asOf=2026-05-02T14:03:00Z', 'asOf'],
        ['atRevision=-1', 'atRevision'],
        ['atRevision=1.5', 'atRevision'],
        ['atRevision=abc', 'atRevision'],
        ['atRevision=1&atRevision=2', 'atRevision'],
        ['asOf=yesterday', 'asOf'],
        ['asOf=2026-02-30T00:00:00Z', 'asOf'],
        ['asOf=2026-05-02T14:03:00', 'asOf'],
        ['asOf=2026-05-02T14:03:00.1234Z', 'asOf'],
        ['asOf[$gt]=x', 'asOf'],
        ['at=3', 'at'],
      ];
      for (const [query, field] of cases) {
        const res = await get(`/carts/${cartId}/state?${query}`, auditor);
        expect({ query, status: res.status }).toEqual({ query, status: 400 });
        expect(res.body.code).toBe('VALIDATION_FAILED');
        expect(JSON.stringify(res.body.errors)).toContain(field);
      }
    });

    it('an unknown cart, a malformed id and another shopper are the same 404', async () => {
      for (const [path, auth] of [
        [`/carts/${randomUUID()}/state?atRevision=0`, auditor],
        [`/carts/not-a-uuid/state?atRevision=0`, auditor],
        [`/carts/${cartId}/state?atRevision=0`, stranger],
        [`/carts/${cartId}/diff?from=0`, stranger],
      ] as const) {
        const res = await get(path, auth).expect(404);
        expect(res.body.code).toBe('CART_NOT_FOUND');
      }
    });
  });

  describe('asOf boundaries on events appended with controlled instants', () => {
    let streamCartId: string;
    let recorded: RecordedEvent[];

    /** Appends through the port: one append shares one `created`, so several events share a millisecond. */
    async function append(events: EventToAppend[]): Promise<void> {
      const last = await t.events.streamRevision(`cart-${streamCartId}`);
      await t.events.append(`cart-${streamCartId}`, events, last);
      await sleep(3); // the next append gets a later millisecond
    }
    const event = (type: string, data: Record<string, unknown>): EventToAppend => ({
      id: randomUUID(),
      type,
      data: data as never,
      metadata: { schemaVersion: 1, actor: 'test', correlationId: 'boundaries' },
    });

    beforeAll(async () => {
      streamCartId = randomUUID();
      const opened = event('CartOpened', {
        cartId: streamCartId,
        customerId: 'audit-owner',
        currency: 'EUR',
      });
      await t.events.append(`cart-${streamCartId}`, [opened], 'no_stream');
      await sleep(3);
      await append([
        event('ItemAdded', { sku: 'x', name: 'X', quantity: 1, unitPrice: 10 }),
        event('ItemAdded', { sku: 'y', name: 'Y', quantity: 1, unitPrice: 20 }),
        event('ItemQuantityChanged', { sku: 'x', quantity: 5 }),
      ]);
      await append([event('ItemRemoved', { sku: 'y' })]);
      recorded = await t.readStream(`cart-${streamCartId}`);
      const ms = recorded.map((e) => e.created.getTime());
      expect(ms[1]).toBe(ms[3]);
      expect(ms[0]! < ms[1]! && ms[3]! < ms[4]!).toBe(true);
    });

    const asOf = (instant: Date) => get(`/carts/${streamCartId}/state?asOf=${instant.toISOString()}`, owner);

    it('an event at exactly T counts, and of several sharing T the last one is the answer', async () => {
      const res = await asOf(recorded[1]!.created).expect(200);
      expect(res.body.meta).toMatchObject({ revision: 3, at: recorded[3]!.created.toISOString() });
      expect(res.body.data.lines).toEqual([
        { sku: 'x', name: 'X', quantity: 5, unitPrice: 10, lineTotal: 50 },
        { sku: 'y', name: 'Y', quantity: 1, unitPrice: 20, lineTotal: 20 },
      ]);
      expect((await asOf(recorded[4]!.created).expect(200)).body.meta.revision).toBe(4);
    });

    it('one millisecond before a shared instant is the state before all of them', async () => {
      const res = await asOf(new Date(recorded[1]!.created.getTime() - 1)).expect(200);
      expect(res.body.meta.revision).toBe(0);
      expect(res.body.data.lines).toEqual([]);
    });

    it('before the first event is a 404; long after the last is the current state', async () => {
      await asOf(new Date(recorded[0]!.created.getTime() - 1)).expect(404);
      expect((await asOf(new Date(recorded[0]!.created.getTime())).expect(200)).body.meta.revision).toBe(0);
      expect((await asOf(new Date(Date.now() + 86_400_000)).expect(200)).body.meta.revision).toBe(4);
    });
  });

  describe('GET /orders/:id/state and /orders/:id/diff', () => {
    it('follows the order through payment and shipping', async () => {
      const order = await get(`/orders/${orderId}?consistency=strong`, owner).expect(200);
      const total = order.body.data.total as number;
      await payOrder(t.http, orderId, total, { paymentId: 'pay-audit' }).expect(200);
      await t.http
        .post(`/orders/${orderId}/shipments`)
        .set('authorization', operator)
        .send({ carrier: 'DHL', trackingNumber: 'TRACK-9' })
        .expect(200);
      const placed = await get(`/orders/${orderId}/state?atRevision=0`, owner).expect(200);
      expect(placed.body.data).toMatchObject({ status: 'placed', paid: 0, shipment: null, total });
      const shipped = await get(`/orders/${orderId}/state?atRevision=2`, auditor).expect(200);
      expect(shipped.body.data).toMatchObject({
        status: 'shipped',
        paid: total,
        paymentId: 'pay-audit',
        shipment: { carrier: 'DHL', trackingNumber: 'TRACK-9' },
      });
      const diff = await get(`/orders/${orderId}/diff?from=0&to=2`, owner).expect(200);
      expect(diff.body.data.changes.fields).toEqual([
        { field: 'status', from: 'placed', to: 'shipped' },
        { field: 'paid', from: 0, to: total },
        { field: 'paymentId', from: null, to: 'pay-audit' },
        { field: 'shipment', from: null, to: { carrier: 'DHL', trackingNumber: 'TRACK-9' } },
      ]);
      expect(diff.body.data.events.map((e: AuditEventJson) => e.type)).toEqual(['OrderPaid', 'OrderShipped']);
      expect(applyDiff(placed.body.data, diff.body.data.changes)).toStrictEqual(shipped.body.data);
      await get(`/orders/${orderId}/state?atRevision=0`, stranger).expect(404);
      await get(`/orders/${orderId}/state?atRevision=3`, owner).expect(404);
    });
  });

  describe('GET /carts/:id/diff', () => {
    it('field by field between two revisions, with the events in between; applying it gives the later state', async () => {
      const res = await get(`/carts/${cartId}/diff?from=2&to=6`, owner).expect(200);
      const views = viewsOf(cartId, cartEvents);
      expect(res.body.data.from).toEqual({ revision: 2, at: cartEvents[2]!.created.toISOString() });
      expect(res.body.data.to).toEqual({ revision: 6, at: cartEvents[6]!.created.toISOString() });
      expect(res.body.data.changes).toStrictEqual({
        fields: [{ field: 'total', from: 1100, to: 2350 }],
        lines: {
          added: [{ sku: 'sku-c', name: 'sku-c', quantity: 1, unitPrice: 50, lineTotal: 50 }],
          removed: [],
          changed: [
            {
              sku: 'sku-a',
              changes: [
                { field: 'quantity', from: 1, to: 4 },
                { field: 'lineTotal', from: 500, to: 2000 },
              ],
            },
            {
              sku: 'sku-b',
              changes: [
                { field: 'quantity', from: 2, to: 1 },
                { field: 'lineTotal', from: 600, to: 300 },
              ],
            },
          ],
          // sku-b was removed and added again: it moved behind sku-c.
          order: ['sku-a', 'sku-c', 'sku-b'],
        },
      });
      expect(res.body.data.events.map((e: AuditEventJson) => [e.revision, e.type])).toEqual([
        [3, 'ItemQuantityChanged'],
        [4, 'ItemRemoved'],
        [5, 'ItemAdded'],
        [6, 'ItemAdded'],
      ]);
      expect(res.body.data.events[0]).toMatchObject({
        stream: `cart-${cartId}`,
        data: { sku: 'sku-a', quantity: 4 },
        metadata: { actor: 'audit-owner', command: 'ChangeItemQuantity', schemaVersion: 1 },
      });
      expect(res.body.meta).toEqual({ source: 'event-store', eventCount: 4, eventsTruncated: false });
      expect(applyDiff(views[2]!, res.body.data.changes)).toStrictEqual(views[6]);
    });

    it('round trip for every pair of revisions: state(from) + diff = state(to)', async () => {
      for (let from = 0; from < cartEvents.length; from++) {
        const before = (await get(`/carts/${cartId}/state?atRevision=${from}`, auditor).expect(200)).body
          .data;
        for (let to = from; to < cartEvents.length; to++) {
          const after = (await get(`/carts/${cartId}/state?atRevision=${to}`, auditor).expect(200)).body.data;
          const diff = await get(`/carts/${cartId}/diff?from=${from}&to=${to}`, auditor).expect(200);
          expect(applyDiff(before, diff.body.data.changes)).toStrictEqual(after);
          expect(diff.body.data.events).toHaveLength(to - from);
        }
      }
    });

    it('by instants, and up to the latest revision when `to` is left out', async () => {
      const res = await get(
        `/carts/${cartId}/diff?fromAsOf=${cartEvents[1]!.created.toISOString()}&toAsOf=2999-01-01T00:00:00.000Z`,
        auditor,
      ).expect(200);
      const latest = await get(`/carts/${cartId}/diff?from=${res.body.data.from.revision}`, auditor).expect(
        200,
      );
      expect(latest.body.data).toStrictEqual(res.body.data);
      expect(res.body.data.to.revision).toBe(7);
      expect(res.body.data.changes.fields).toContainEqual({
        field: 'status',
        from: 'open',
        to: 'checked-out',
      });
    });

    it('from after to, both forms of one point, or no from are a 400', async () => {
      for (const query of ['from=5&to=2', 'from=1&fromAsOf=2026-01-01T00:00:00Z', 'to=3', '', 'from=x']) {
        const res = await get(`/carts/${cartId}/diff?${query}`, auditor);
        expect({ query, status: res.status, code: res.body.code }).toEqual({
          query,
          status: 400,
          code: 'VALIDATION_FAILED',
        });
      }
      await get(`/carts/${cartId}/diff?from=0&to=99`, auditor).expect(404);
    });

    it('lists at most 1000 events and says how many there are', async () => {
      const id = randomUUID();
      const opened: EventToAppend = {
        id: randomUUID(),
        type: 'CartOpened',
        data: { cartId: id, customerId: 'audit-owner', currency: 'EUR' },
        metadata: { schemaVersion: 1 },
      };
      const many: EventToAppend[] = [
        {
          id: randomUUID(),
          type: 'ItemAdded',
          data: { sku: 'z', name: 'Z', quantity: 1, unitPrice: 1 },
          metadata: {},
        },
        ...Array.from({ length: 1200 }, (_, i) => ({
          id: randomUUID(),
          type: 'ItemQuantityChanged',
          data: { sku: 'z', quantity: 1 + (i % 999) },
          metadata: {},
        })),
      ];
      await t.events.append(`cart-${id}`, [opened, ...many], 'no_stream');
      const res = await get(`/carts/${id}/diff?from=0`, owner).expect(200);
      expect(res.body.meta).toEqual({ source: 'event-store', eventCount: 1201, eventsTruncated: true });
      expect(res.body.data.events).toHaveLength(1000);
      expect(res.body.data.events[999].revision).toBe(1000);
      expect(res.body.data.to.revision).toBe(1201);
    });
  });

  describe('GET /audit/streams/:stream/events', () => {
    const path = () => `/audit/streams/cart-${cartId}/events`;

    it('pages forwards with a next link until the end, every event with its full metadata', async () => {
      const seen: AuditEventJson[] = [];
      let next: string | null = `${path()}?limit=3`;
      while (next) {
        const res: Response = await get(next, auditor).expect(200);
        expect(res.body.stream).toBe(`cart-${cartId}`);
        expect(res.body.lastRevision).toBe(7);
        expect(res.body.items.length).toBeLessThanOrEqual(3);
        if (res.body.next) expect(res.headers.link).toBe(`<${res.body.next}>; rel="next"`);
        seen.push(...res.body.items);
        next = res.body.next;
      }
      expect(seen.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(seen.map((e) => e.id)).toEqual(cartEvents.map((e) => e.id));
      for (const [i, event] of seen.entries()) {
        const stored = cartEvents[i]!;
        expect(event).toStrictEqual({
          position: Number(stored.position),
          stream: `cart-${cartId}`,
          revision: i,
          id: stored.id,
          type: stored.type,
          data: stored.data,
          metadata: stored.metadata,
          created: stored.created.toISOString(),
        });
        expect(Object.keys(event.metadata)).toEqual(
          expect.arrayContaining([
            'actor',
            'correlationId',
            'causationId',
            'occurredAt',
            'schemaVersion',
            'command',
          ]),
        );
      }
      expect(seen[7]!.metadata.correlationId).toBe('audit-checkout-1');
    });

    it('pages backwards from the end or from a revision', async () => {
      const first = await get(`${path()}?direction=backwards&limit=5`, operator).expect(200);
      expect(first.body.items.map((e: AuditEventJson) => e.revision)).toEqual([7, 6, 5, 4, 3]);
      expect(first.body.next).toBe(`${path()}?from=2&limit=5&direction=backwards`);
      const second = await get(first.body.next, operator).expect(200);
      expect(second.body.items.map((e: AuditEventJson) => e.revision)).toEqual([2, 1, 0]);
      expect(second.body.next).toBeNull();
      const from = await get(`${path()}?direction=backwards&from=1`, operator).expect(200);
      expect(from.body.items.map((e: AuditEventJson) => e.revision)).toEqual([1, 0]);
    });

    it('a page past the end is empty', async () => {
      const res = await get(`${path()}?from=8`, auditor).expect(200);
      expect(res.body).toMatchObject({ items: [], next: null, lastRevision: 7 });
    });

    it('snapshot streams, unknown and malformed streams are 404; bad paging is 400', async () => {
      expect((await t.readStream(`cartsnapshot-${cartId}`)).length).toBeGreaterThan(0);
      for (const stream of [
        `cartsnapshot-${cartId}`,
        `cart-${randomUUID()}`,
        'cart-1',
        '$all',
        '%24ce-cart',
        `CART-${cartId}`,
        `cart-${cartId.toUpperCase()}`,
        `process-${cartId}`,
      ]) {
        const res = await get(`/audit/streams/${stream}/events`, auditor);
        expect({ stream, status: res.status, code: res.body.code }).toEqual({
          stream,
          status: 404,
          code: 'STREAM_NOT_FOUND',
        });
      }
      for (const query of ['limit=0', 'limit=1001', 'direction=up', 'from=-1', 'limit=5&limit=6']) {
        await get(`${path()}?${query}`, auditor).expect(400);
      }
    });
  });

  describe('GET /audit/events (NDJSON replay)', () => {
    it('streams every cart, order and product event in position order, one JSON object per line, never a snapshot', async () => {
      const res = await get('/audit/events', auditor).expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      const lines = ndjsonLines(res);
      const stored = (await t.events.readAll()).filter((e) => /^(cart|order|product)-/.test(e.streamId));
      expect(lines.map((e) => e.id)).toEqual(stored.map((e) => e.id));
      // The catalog products the carts sell are audited too.
      expect(lines.filter((e) => e.stream === 'product-sku-a').map((e) => e.type)).toEqual(['ProductListed']);
      expect(stored.length).toBeGreaterThan(1200);
      for (let i = 1; i < lines.length; i++)
        expect(lines[i]!.position).toBeGreaterThan(lines[i - 1]!.position);
      expect(lines.some((e) => e.type === 'AggregateSnapshotTaken' || e.stream.includes('snapshot'))).toBe(
        false,
      );
      // The store does hold snapshots: the replay really left them out.
      expect((await t.events.readAll()).some((e) => e.type === 'AggregateSnapshotTaken')).toBe(true);
      expect(text(res).endsWith('\n')).toBe(true);
    });

    it('HEAD answers the headers without reading the store', async () => {
      const res = await t.http.head('/audit/events').set('authorization', auditor).expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      expect(res.headers['content-length']).toBe('0');
    });

    it('filters by types, stream category and one stream', async () => {
      const paid = ndjsonLines(
        await get('/audit/events?types=CartCheckedOut,OrderPlaced', auditor).expect(200),
      );
      expect(new Set(paid.map((e) => e.type))).toEqual(new Set(['CartCheckedOut', 'OrderPlaced']));
      const orders = ndjsonLines(await get('/audit/events?streamPrefix=order', operator).expect(200));
      expect(orders.length).toBeGreaterThan(0);
      expect(orders.every((e) => e.stream.startsWith('order-'))).toBe(true);
      const oneCart = ndjsonLines(
        await get(`/audit/events?streamPrefix=cart-${cartId}`, auditor).expect(200),
      );
      expect(oneCart.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      const added = ndjsonLines(
        await get(`/audit/events?streamPrefix=cart-${cartId}&types=ItemAdded`, auditor).expect(200),
      );
      expect(added.map((e) => e.revision)).toEqual([1, 2, 5, 6]);
      expect(text(await get('/audit/events?streamPrefix=order&types=ItemAdded', auditor).expect(200))).toBe(
        '',
      );
    });

    it('resumes after a position, and honours from/to instants and a limit', async () => {
      const all = ndjsonLines(await get('/audit/events', auditor).expect(200));
      const middle = all[Math.floor(all.length / 2)]!;
      const rest = ndjsonLines(
        await get(`/audit/events?afterPosition=${middle.position}`, auditor).expect(200),
      );
      expect(rest.map((e) => e.id)).toEqual(all.filter((e) => e.position > middle.position).map((e) => e.id));
      const oneStreamRest = ndjsonLines(
        await get(
          `/audit/events?streamPrefix=cart-${cartId}&afterPosition=${Number(cartEvents[4]!.position)}`,
          auditor,
        ).expect(200),
      );
      expect(oneStreamRest.map((e) => e.revision)).toEqual([5, 6, 7]);

      const from = cartEvents[2]!.created.toISOString();
      const to = cartEvents[5]!.created.toISOString();
      const window = ndjsonLines(
        await get(`/audit/events?streamPrefix=cart-${cartId}&from=${from}&to=${to}`, auditor).expect(200),
      );
      expect(window.map((e) => e.revision)).toEqual(
        cartEvents
          .filter((e) => e.created >= new Date(from) && e.created <= new Date(to))
          .map((e) => Number(e.revision)),
      );
      const inAll = ndjsonLines(await get(`/audit/events?from=${from}&to=${to}`, auditor).expect(200));
      expect(inAll.every((e) => e.created >= from && e.created <= to)).toBe(true);
      expect(inAll.filter((e) => e.stream === `cart-${cartId}`).map((e) => e.revision)).toEqual(
        window.map((e) => e.revision),
      );
      const limited = ndjsonLines(await get('/audit/events?limit=3', auditor).expect(200));
      expect(limited.map((e) => e.id)).toEqual(all.slice(0, 3).map((e) => e.id));
    });

    it('refuses unknown types, other prefixes, reversed ranges and malformed values with a 400 problem', async () => {
      for (const query of [
        'types=AggregateSnapshotTaken',
        'types=CartOpened,Nope',
        'types=',
        'streamPrefix=cartsnapshot',
        'streamPrefix=cart-1',
        'streamPrefix=%24all',
        'from=2026-05-03T00:00:00Z&to=2026-05-02T00:00:00Z',
        'from=tomorrow',
        'afterPosition=-1',
        'afterPosition=abc',
        'limit=0',
        'types=CartOpened&types=ItemAdded',
        'unknown=1',
      ]) {
        const res = await get(`/audit/events?${query}`, auditor);
        expect({ query, status: res.status }).toEqual({ query, status: 400 });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    });
  });

  describe('GET /correlations/:correlationId', () => {
    it('lists every event of one request across streams in position order: the checkout and the order it placed', async () => {
      const res = await get('/correlations/audit-checkout-1', auditor).expect(200);
      expect(res.body.correlationId).toBe('audit-checkout-1');
      expect(res.body.items.map((e: AuditEventJson) => [e.stream, e.type])).toEqual([
        [`cart-${cartId}`, 'CartCheckedOut'],
        [`order-${orderId}`, 'OrderPlaced'],
      ]);
      expect(res.body.items[1].metadata.causationId).toBe(res.body.items[0].id);
      expect(res.body.nextCursor).toBeNull();
    });

    it('pages with a cursor', async () => {
      const first = await get('/correlations/audit-checkout-1?limit=1', operator).expect(200);
      expect(first.body.items.map((e: AuditEventJson) => e.type)).toEqual(['CartCheckedOut']);
      expect(typeof first.body.nextCursor).toBe('string');
      const second = await get(
        `/correlations/audit-checkout-1?limit=1&cursor=${first.body.nextCursor}`,
        operator,
      ).expect(200);
      expect(second.body.items.map((e: AuditEventJson) => e.type)).toEqual(['OrderPlaced']);
      expect(second.body.nextCursor).toBeNull();
      await get(`/correlations/other-id?limit=1&cursor=${first.body.nextCursor}`, operator).expect(400);
      await get('/correlations/audit-checkout-1?cursor=garbage!', operator).expect(400);
    });

    it('an unknown or malformed correlation id is a 404', async () => {
      expect((await get('/correlations/never-used', auditor).expect(404)).body.code).toBe(
        'CORRELATION_NOT_FOUND',
      );
      await get('/correlations/has%20space', auditor).expect(404);
      await get('/correlations/semi;colon', auditor).expect(404);
      // Longer than a correlation id (128), but not than a path segment may be (200): unknown, 404.
      expect((await get(`/correlations/${'x'.repeat(129)}`, auditor)).status).toBe(404);
      // Longer than any id the service issues: Fastify's router refuses it before the controller (414).
      expect((await get(`/correlations/${'x'.repeat(201)}`, auditor)).status).toBe(414);
    });
  });
});
