import type { Test } from 'supertest';

/**
 * Buffers a supertest answer as text and parses it only when it is JSON, so that an NDJSON stream arrives as
 * one string (supertest would otherwise leave it unread) and a problem+json answer as an object.
 */
export function textOrJson(test: Test): Test {
  return test.buffer(true).parse((res, done) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (body += chunk));
    res.on('end', () => {
      const type = String(res.headers['content-type'] ?? '');
      try {
        done(null, type.includes('json') && !type.includes('ndjson') ? JSON.parse(body) : body);
      } catch (error) {
        done(error as Error, body);
      }
    });
  });
}
