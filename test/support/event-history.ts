import { addItem, checkOutAsPriced } from './cart-commands.js';
import { randomUUID } from 'node:crypto';
import type { CartCommand } from '../../src/carts/domain/cart.commands.js';
import { decideCart, evolveCart, initialCartState } from '../../src/carts/domain/cart.decider.js';
import type { CartState } from '../../src/carts/domain/cart.state.js';
import { type EventStore, WrongExpectedRevisionError } from '../../src/event-store/event-store.port.js';
import type { OrderCommand } from '../../src/orders/domain/order.commands.js';
import { decideOrder, evolveOrder, initialOrderState } from '../../src/orders/domain/order.decider.js';
import type { OrderState } from '../../src/orders/domain/order.state.js';
import { DomainError, type DomainEvent } from '../../src/shared/domain/index.js';
import { seeded } from './random.js';

export { seeded };

/** A stream's state as it is now (not as a type guard narrowed it before an await). */
const stateOf = <S>(stream: Stream<S>): S => stream.state;

interface Stream<S> {
  readonly id: string;
  readonly streamId: string;
  state: S;
  revision: bigint | 'no_stream';
}

export interface History {
  readonly carts: string[];
  readonly orders: string[];
  readonly events: number;
}

/**
 * Writes a realistic, interleaved history straight into an event store: `carts` carts driven by random
 * (decider-checked) commands, the checked-out ones followed by their orders through payment, shipping,
 * delivery, cancellation and refunds. Only events the deciders accept are written.
 */
export async function writeHistory(
  store: EventStore,
  { carts = 40, steps = 12, seed = 1, customers = 5 } = {},
): Promise<History> {
  const random = seeded(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const cartStreams: Stream<CartState>[] = [];
  const orderStreams: Stream<OrderState>[] = [];
  let written = 0;

  async function append<S, E extends DomainEvent>(
    stream: Stream<S>,
    decide: () => E[],
    evolve: (state: S, event: E) => S,
    initial: S,
  ): Promise<boolean> {
    // The app under test may append to the same streams (its process managers place the order of a
    // checked-out cart, refund a cancelled paid order): on a conflict, fold the stream as it is and decide again.
    for (let attempt = 0; ; attempt++) {
      let events: E[];
      try {
        events = decide();
      } catch (error) {
        if (error instanceof DomainError) return false;
        throw error;
      }
      try {
        const result = await store.append(
          stream.streamId,
          events.map((event) => ({
            id: randomUUID(),
            type: event.type,
            data: event.data as never,
            metadata: { schemaVersion: 1, actor: 'history', correlationId: randomUUID() },
          })),
          stream.revision,
        );
        stream.revision = result.nextExpectedRevision;
        for (const event of events) stream.state = evolve(stream.state, event);
        written += events.length;
        return true;
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError) || attempt >= 10) throw error;
        const recorded = await store.readStream(stream.streamId);
        stream.state = recorded.reduce(
          (state, event) => evolve(state, { type: event.type, data: event.data } as E),
          initial,
        );
        stream.revision = recorded.length === 0 ? 'no_stream' : recorded[recorded.length - 1]!.revision;
      }
    }
  }

  for (let i = 0; i < carts; i++) {
    const id = randomUUID();
    const stream: Stream<CartState> = {
      id,
      streamId: `cart-${id}`,
      state: initialCartState,
      revision: 'no_stream',
    };
    cartStreams.push(stream);
    const customerId = `customer-${i % customers}`;
    await append(
      stream,
      () => decideCart({ type: 'OpenCart', data: { cartId: id, customerId, currency: 'EUR' } }, stream.state),
      evolveCart,
      initialCartState,
    );
  }

  for (let step = 0; step < steps; step++) {
    for (const cart of cartStreams) {
      if (cart.state.status !== 'open') continue;
      const sku = `sku-${Math.floor(random() * 6)}`;
      const roll = random();
      let command: CartCommand;
      if (roll < 0.5)
        command = addItem(sku, `Item ${sku}`, 1 + Math.floor(random() * 3), 100 + Number(sku.slice(4)) * 50);
      else if (roll < 0.65)
        command = { type: 'ChangeItemQuantity', data: { sku, quantity: 1 + Math.floor(random() * 9) } };
      else if (roll < 0.75) command = { type: 'RemoveItem', data: { sku } };
      else if (roll < 0.9 && step > 2) command = checkOutAsPriced(randomUUID(), cart.state);
      else if (roll > 0.97) command = { type: 'AbandonCart', data: { reason: null } };
      else continue;
      await append(cart, () => decideCart(command, cart.state), evolveCart, initialCartState);
      const after = stateOf(cart); // append() replaced it: read it afresh
      if (after.status === 'checked-out' && after.orderId) {
        const orderId = after.orderId;
        const order: Stream<OrderState> = {
          id: orderId,
          streamId: `order-${orderId}`,
          state: initialOrderState,
          revision: 'no_stream',
        };
        orderStreams.push(order);
        const placeOrder: OrderCommand = {
          type: 'PlaceOrder',
          data: {
            orderId,
            cartId: cart.id,
            customerId: after.customerId!,
            currency: 'EUR',
            lines: after.lines.map((line) => ({ ...line })),
          },
        };
        await append(order, () => decideOrder(placeOrder, order.state), evolveOrder, initialOrderState);
      }
    }
    for (const order of orderStreams) {
      const commands: OrderCommand[] = [
        {
          type: 'RecordPayment',
          data: { paymentId: `pay-${order.id.slice(0, 8)}`, amount: order.state.total, currency: 'EUR' },
        },
        { type: 'ShipOrder', data: { carrier: pick(['DHL', 'UPS']), trackingNumber: `T-${step}` } },
        { type: 'DeliverOrder', data: {} },
        { type: 'RefundOrder', data: { amount: Math.max(1, Math.floor(order.state.paid / 4)) } },
        { type: 'CancelOrder', data: { reason: 'changed plans' } },
      ];
      if (random() < 0.6)
        await append(
          order,
          () => decideOrder(pick(commands.slice(0, random() < 0.1 ? 5 : 4)), order.state),
          evolveOrder,
          initialOrderState,
        );
    }
  }
  return { carts: cartStreams.map((s) => s.id), orders: orderStreams.map((s) => s.id), events: written };
}
