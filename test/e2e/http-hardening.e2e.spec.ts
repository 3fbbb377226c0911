import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { maxHeaderSize } from 'node:http';
import { MAX_JSON_DEPTH } from '../../src/shared/http/json-body.js';
import { addItem, openCart, placeOrder } from '../support/cart-fixtures.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** A raw HTTP/1.1 exchange over a socket: what supertest cannot send (broken framing, huge heads, no Host). */
function exchange(port: number, request: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer in 5 s; got: ${Buffer.concat(chunks).toString('latin1')}`));
    }, 5_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server closes the connection after a client error; a reset after its answer is fine too.
    const done = () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    socket.on('close', done);
    socket.on('error', done);
  });
}

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** Parses the first answer on the wire (status line, headers, JSON body). */
function parse(raw: string): RawAnswer {
  const [head = '', ...rest] = raw.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  const length = Number(headers['content-length']);
  const text = rest.join('\r\n\r\n').slice(0, length);
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: JSON.parse(text) as Record<string, unknown>,
  };
}

/** A problem+json answer with this status and code, and no stack trace or path of the server in it. */
function expectProblem(answer: RawAnswer, status: number, code: string): void {
  expect({ status: answer.status, code: answer.body.code }).toEqual({ status, code });
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({
    status,
    type: expect.stringContaining('/problems/'),
    title: expect.any(String),
  });
  expect(JSON.stringify(answer.body)).not.toMatch(/ at |\.(ts|js):\d+|\/work\/|node:internal/);
}

/** `{"field": [[[…1]]]}` nested `depth` levels deep (the field's own object counts as one). */
const deepBody = (field: string, depth: number): string =>
  `{"${field}":${'['.repeat(depth - 1)}1${']'.repeat(depth - 1)}}`;

describe('HTTP hardening: no input yields a 5xx, and every refusal is a problem', () => {
  let t: TestApp;
  let port: number;
  let shopper: string;
  let operator: string;
  let cartId: string;
  let orderId: string;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
    shopper = t.bearer('c-hard', 'shopper');
    operator = t.bearer('op-hard', 'operator');
    cartId = await openCart(t, shopper);
    await addItem(t, shopper, cartId, { sku: 'hard-1', unitPrice: 100 });
    ({ orderId } = await placeOrder(t, shopper));
  });
  afterAll(async () => {
    await t.close();
  });

  describe(`a JSON body nested more than ${MAX_JSON_DEPTH} levels is 400 JSON_TOO_DEEP, on every write`, () => {
    // ~1,300 levels overflowed the stack (canonicalJson of the idempotency hash, class-transformer): a 500.
    const routes: [string, string, string, () => string][] = [
      ['POST', '/carts', 'currency', () => shopper],
      ['POST', '/carts/{cart}/items', 'sku', () => shopper],
      ['PATCH', '/carts/{cart}/items/hard-1', 'quantity', () => shopper],
      ['POST', '/carts/{cart}/abandon', 'reason', () => shopper],
      ['POST', '/orders/{order}/shipments', 'carrier', () => operator],
      ['POST', '/catalog/products', 'name', () => operator],
      ['POST', '/admin/projections/carts/verify', 'repair', () => operator],
      ['POST', '/admin/projections/carts/parked/replay', 'limit', () => operator],
      ['POST', '/webhooks/payments', 'data', () => ''],
    ];
    for (const [method, template, field, auth] of routes) {
      it(`${method} ${template}: 1,300 and ${MAX_JSON_DEPTH + 1} levels`, async () => {
        const url = template.replace('{cart}', cartId).replace('{order}', orderId);
        const before = (await t.readStream(`cart-${cartId}`)).length;
        for (const depth of [1_300, MAX_JSON_DEPTH + 1]) {
          const res = await t.http[method.toLowerCase() as 'post' | 'patch'](url)
            .set('authorization', auth())
            .set('idempotency-key', `deep-${depth}-${field}`)
            .set('content-type', 'application/json')
            .send(deepBody(field, depth));
          expect([res.status, res.body.code]).toEqual([400, 'JSON_TOO_DEEP']);
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(res.body.maxDepth).toBe(MAX_JSON_DEPTH);
        }
        expect(await t.readStream(`cart-${cartId}`)).toHaveLength(before);
      });
    }

    it(`${MAX_JSON_DEPTH} levels are parsed, and refused by validation like any wrong type`, async () => {
      const res = await t.http
        .post('/carts')
        .set('authorization', shopper)
        .set('content-type', 'application/json')
        .send(deepBody('currency', MAX_JSON_DEPTH));
      expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    });
  });

  describe('__proto__ and constructor keys: refused, saying that the JSON is valid and why', () => {
    it.each([
      ['{"currency":"EUR","__proto__":{"admin":true}}', '__proto__', '$'],
      ['{"currency":"EUR","constructor":{"prototype":{"admin":true}}}', 'constructor', '$'],
      // class-transformer would drop it silently, so strict validation would never see it.
      ['{"currency":"EUR","constructor":1}', 'constructor', '$'],
      ['{"currency":"EUR","x":[{"__proto__":1}]}', '__proto__', '$.x[0]'],
    ])('%s → 400 FORBIDDEN_JSON_KEY', async (body, key, path) => {
      const res = await t.http
        .post('/carts')
        .set('authorization', shopper)
        .set('content-type', 'application/json')
        .send(body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'FORBIDDEN_JSON_KEY', key, path });
      expect(res.body.detail).toMatch(/is valid JSON, but its key .* is refused: .*prototype/);
    });
  });

  describe('405 with Allow on the paths the app serves', () => {
    it.each([
      ['PUT', '/carts', 'POST'],
      ['DELETE', '/carts', 'POST'],
      ['OPTIONS', '/carts/{cart}/items', 'POST'],
      ['TRACE', '/health/live', 'GET, HEAD'],
      ['PUT', '/carts/{cart}', 'GET, HEAD'],
      ['POST', '/orders/{order}', 'GET, HEAD'],
      ['GET', '/carts/{cart}/items/hard-1', 'DELETE, PATCH'],
      ['PUT', '/catalog/products/hard-1', 'DELETE, GET, HEAD'],
      ['DELETE', '/docs/json', 'GET, HEAD'],
    ])('%s %s → 405, Allow: %s', async (method, template, allow) => {
      const url = template.replace('{cart}', cartId).replace('{order}', orderId);
      const answer = parse(
        await exchange(
          port,
          `${method} ${url} HTTP/1.1\r\nHost: x\r\nAuthorization: ${shopper}\r\nConnection: close\r\n\r\n`,
        ),
      );
      expectProblem(answer, 405, 'METHOD_NOT_ALLOWED');
      expect(answer.headers.allow).toBe(allow);
      expect(answer.body.allow).toEqual(allow.split(', '));
    });

    it('QUERY, which Fastify refuses without a Content-Type before routing, is a 405 too', async () => {
      const answer = parse(
        await exchange(port, 'QUERY /carts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      );
      expectProblem(answer, 405, 'METHOD_NOT_ALLOWED');
      expect(answer.headers.allow).toBe('POST');
    });

    it('a path segment as long as the longest id (a customer id of 200) reaches its route; 201 is 414', async () => {
      const customer = 'c'.repeat(200);
      await t.http
        .get(`/customers/${customer}/timeline`)
        .set('authorization', t.bearer(customer, 'shopper'))
        .expect(200);
      const tooLong = await t.http
        .get(`/customers/${'c'.repeat(201)}/timeline`)
        .set('authorization', operator);
      expect([tooLong.status, tooLong.body.code]).toEqual([414, 'URI_TOO_LONG']);
    });

    it('a path that no route serves is still 404, whatever the method', async () => {
      for (const method of ['GET', 'PUT', 'OPTIONS']) {
        const answer = parse(
          await exchange(port, `${method} /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
        );
        expectProblem(answer, 404, 'ROUTE_NOT_FOUND');
        expect(answer.headers.allow).toBeUndefined();
      }
    });

    it('the routes still answer their own methods (an unknown id is a 404, not a 405)', async () => {
      await t.http.get(`/carts/${cartId}`).set('authorization', shopper).expect(200);
      await t.http.head('/health/live').expect(200);
      const missing = await t.http
        .get('/carts/00000000-0000-4000-8000-000000000000')
        .set('authorization', shopper);
      expect([missing.status, missing.body.code]).toEqual([404, 'CART_NOT_FOUND']);
    });
  });

  describe("what Node's HTTP parser refuses is a problem too (raw sockets)", () => {
    const post = (headers: string, body: string) =>
      `POST /carts HTTP/1.1\r\nHost: x\r\nAuthorization: ${shopper}\r\nContent-Type: application/json\r\n${headers}\r\n${body}`;

    it('Content-Length with Transfer-Encoding: chunked (either order) → 400 BAD_FRAMING', async () => {
      for (const headers of [
        'Content-Length: 16\r\nTransfer-Encoding: chunked\r\n',
        'Transfer-Encoding: chunked\r\nContent-Length: 16\r\n',
      ]) {
        const answer = parse(await exchange(port, post(headers, '10\r\n{"currency":"EUR"}\r\n0\r\n\r\n')));
        expectProblem(answer, 400, 'BAD_FRAMING');
        expect(answer.headers.connection).toBe('close');
      }
    });

    it('two different Content-Lengths, a non-numeric one, a broken chunk → 400 BAD_FRAMING', async () => {
      for (const [headers, body] of [
        ['Content-Length: 18\r\nContent-Length: 17\r\n', '{"currency":"EUR"}'],
        ['Content-Length: 18, 17\r\n', '{"currency":"EUR"}'],
        ['Content-Length: -1\r\n', '{}'],
        ['Transfer-Encoding: chunked\r\n', 'zz\r\n{}\r\n0\r\n\r\n'],
      ] as const) {
        expectProblem(parse(await exchange(port, post(headers, body))), 400, 'BAD_FRAMING');
      }
    });

    it('bytes past the Content-Length that are no request → 400 MALFORMED_REQUEST', async () => {
      const answer = parse(await exchange(port, post('Content-Length: 2\r\n', '{}not a request\r\n\r\n')));
      expectProblem(answer, 400, 'MALFORMED_REQUEST');
    });

    it(`headers over ${maxHeaderSize} bytes → 431 HEADERS_TOO_LARGE`, async () => {
      const big = `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(maxHeaderSize + 1)}\r\n\r\n`;
      expectProblem(parse(await exchange(port, big)), 431, 'HEADERS_TOO_LARGE');
    });

    it('a URL over the limit → 414 URI_TOO_LONG; a path segment longer than any id → 414 too', async () => {
      const longUrl = `GET /orders?sku=${'a'.repeat(maxHeaderSize + 1)} HTTP/1.1\r\nHost: x\r\n\r\n`;
      expectProblem(parse(await exchange(port, longUrl)), 414, 'URI_TOO_LONG');
      const segment = `GET /carts/${'a'.repeat(300)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
      expectProblem(parse(await exchange(port, segment)), 414, 'URI_TOO_LONG');
    });

    it('an HTTP/1.1 request without Host → 400 MISSING_HOST; HTTP/1.0 needs none', async () => {
      expectProblem(parse(await exchange(port, 'GET /health/live HTTP/1.1\r\n\r\n')), 400, 'MISSING_HOST');
      const old = await exchange(port, 'GET /health/live HTTP/1.0\r\n\r\n');
      expect(old).toMatch(/^HTTP\/1\.1 200 /);
    });

    it('an Expect other than 100-continue → 417 EXPECTATION_FAILED', async () => {
      const answer = parse(
        await exchange(
          port,
          'GET /health/live HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nConnection: close\r\n\r\n',
        ),
      );
      expectProblem(answer, 417, 'EXPECTATION_FAILED');
    });

    it('a request line that is not HTTP → 400 MALFORMED_REQUEST; the service answers the next connection', async () => {
      expectProblem(parse(await exchange(port, 'HELLO<> there\r\n\r\n')), 400, 'MALFORMED_REQUEST');
      await t.http.get('/health/live').expect(200);
      expect(await t.readStream(`cart-${cartId}`)).not.toHaveLength(0);
    });
  });
});
