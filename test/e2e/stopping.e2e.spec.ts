import { connect, type AddressInfo } from 'node:net';
import { eventually } from '../support/eventually.js';
import { openCart } from '../support/cart-fixtures.js';
import { startTestApp } from '../support/test-app.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** The answers on the wire, one after the other (each with a Content-Length). */
function parseAll(raw: string): RawAnswer[] {
  const answers: RawAnswer[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine = '', ...headerLines] = rest.slice(0, end).split('\r\n');
    const headers = Object.fromEntries(
      headerLines.map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
      }),
    );
    const length = Number(headers['content-length']);
    const body = rest.slice(end + 4, end + 4 + length);
    answers.push({
      status: Number(statusLine.split(' ')[1]),
      headers,
      body: JSON.parse(body) as Record<string, unknown>,
    });
    rest = rest.slice(end + 4 + length);
  }
  return answers;
}

/**
 * A stopping service accepts no new connection, but a request can still arrive on one kept alive from before:
 * behind a load balancer, that is every rolling restart. It must be a problem like any other error, saying what
 * to do (the multi-instance suite met Fastify's own `{"error":"Service Unavailable",…}` there).
 */
describe('a request that reaches a stopping service', () => {
  it('is 503 SERVICE_STOPPING, a problem with Connection: close, while the request in flight is answered', async () => {
    const t = await startTestApp({ READ_WAIT_MS: '4000' });
    await t.app.listen(0, '127.0.0.1');
    const server = t.app.getHttpServer();
    const port = (server.address() as AddressInfo).port;
    const shopper = t.bearer('c-stop', 'shopper');
    const cartId = await openCart(t, shopper);

    const socket = connect(port, '127.0.0.1');
    let raw = '';
    socket.on('data', (chunk: Buffer) => (raw += chunk.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    // In flight while the service stops: a read that waits (READ_WAIT_MS) for a revision that never comes.
    socket.write(
      `GET /carts/${cartId}?minRevision=99 HTTP/1.1\r\nHost: x\r\nAuthorization: ${shopper}\r\n\r\n`,
    );
    await eventually(
      () => new Promise<number>((resolve) => server.getConnections((_, n) => resolve(n))),
      (n) => n === 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    const stopped = t.close();
    // The server no longer listens: the stop has begun, and the connection is still open (its read waits).
    await eventually(
      async () => server.listening,
      (listening) => !listening,
    );
    expect(server.listening).toBe(false);
    socket.write(`GET /carts/${cartId} HTTP/1.1\r\nHost: x\r\nAuthorization: ${shopper}\r\n\r\n`);
    await closed;
    await stopped;

    const [inFlight, late] = parseAll(raw);
    expect(inFlight).toMatchObject({ status: 200, body: { meta: { revision: 0, stale: true } } });
    expect(late).toMatchObject({
      status: 503,
      headers: { 'content-type': expect.stringMatching(/^application\/problem\+json/), connection: 'close' },
      body: { status: 503, code: 'SERVICE_STOPPING', type: expect.stringContaining('/problems/') },
    });
    expect(late!.headers['retry-after']).toBe('0');
  }, 30_000);
});
