import { HttpProblem } from '../../src/shared/http/http-errors.js';
import {
  MAX_JSON_DEPTH,
  forbiddenKey,
  nestsDeeperThan,
  parseJsonBody,
} from '../../src/shared/http/json-body.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');
const nested = (depth: number, open = '[', close = ']'): string => open.repeat(depth) + close.repeat(depth);

function problemOf(body: string): unknown {
  try {
    parseJsonBody(bytes(body));
  } catch (error) {
    if (error instanceof HttpProblem) return error.body;
    throw error;
  }
  return null;
}

describe('JSON bodies: depth limit and prototype keys, before anything walks the body', () => {
  describe('nestsDeeperThan', () => {
    it('counts objects and arrays, and stops at the limit', () => {
      expect(nestsDeeperThan(bytes(nested(3)), 3)).toBe(false);
      expect(nestsDeeperThan(bytes(nested(4)), 3)).toBe(true);
      expect(nestsDeeperThan(bytes('{"a":{"b":[{"c":1}]}}'), 4)).toBe(false);
      expect(nestsDeeperThan(bytes('{"a":{"b":[{"c":1}]}}'), 3)).toBe(true);
      // Siblings do not add up.
      expect(nestsDeeperThan(bytes('[[1],[2],[3],[4]]'), 2)).toBe(false);
    });

    it('ignores brackets inside strings, escaped quotes included', () => {
      expect(nestsDeeperThan(bytes(JSON.stringify({ a: '[[[[{{{{' })), 1)).toBe(false);
      expect(nestsDeeperThan(bytes(JSON.stringify({ a: 'x"[[[[\\"[[' })), 1)).toBe(false);
      expect(nestsDeeperThan(bytes(JSON.stringify({ a: '\\', b: [[1]] })), 2)).toBe(true);
    });

    it('reads multi-byte UTF-8 text as it is', () => {
      expect(nestsDeeperThan(bytes(JSON.stringify({ ключ: ['☕', ['\u{1F600}']] })), 3)).toBe(false);
    });

    it('takes a million levels without a stack (no recursion)', () => {
      expect(nestsDeeperThan(bytes(nested(1_000_000)), MAX_JSON_DEPTH)).toBe(true);
    });
  });

  describe('parseJsonBody', () => {
    it('parses what a route can take', () => {
      expect(parseJsonBody(bytes('{"sku":"a","quantity":1}'))).toEqual({ sku: 'a', quantity: 1 });
      expect(parseJsonBody(bytes(nested(MAX_JSON_DEPTH)))).toBeDefined();
      expect(parseJsonBody(bytes('\ufeff{"a":1}'))).toEqual({ a: 1 });
    });

    it(`refuses more than ${MAX_JSON_DEPTH} levels with JSON_TOO_DEEP (the ~1,300 that overflowed the stack too)`, () => {
      for (const depth of [MAX_JSON_DEPTH + 1, 1_300, 100_000]) {
        expect(problemOf(nested(depth))).toMatchObject({
          status: 400,
          code: 'JSON_TOO_DEEP',
          maxDepth: MAX_JSON_DEPTH,
        });
        expect(problemOf(`{"currency":${nested(depth, '{"a":', '}').replace(/}$/, '1}')}}`)).toMatchObject({
          code: 'JSON_TOO_DEEP',
        });
      }
    });

    it('refuses an empty body and malformed JSON with their own codes', () => {
      expect(problemOf('')).toMatchObject({ status: 400, code: 'EMPTY_BODY' });
      expect(problemOf('{"a":')).toMatchObject({ status: 400, code: 'MALFORMED_JSON' });
    });

    it.each([
      ['{"__proto__":{"admin":true}}', '__proto__', '$'],
      ['{"a":[{"b":{"__proto__":1}}]}', '__proto__', '$.a[0].b'],
      ['{"constructor":{"prototype":{"admin":true}}}', 'constructor', '$'],
      ['{"currency":"EUR","constructor":1}', 'constructor', '$'],
    ])('refuses %s, valid JSON, saying why: FORBIDDEN_JSON_KEY', (body, key, path) => {
      const problem = problemOf(body) as { code: string; detail: string; key: string; path: string };
      expect(problem).toMatchObject({ status: 400, code: 'FORBIDDEN_JSON_KEY', key, path });
      expect(problem.detail).toContain('valid JSON');
      expect(problem.detail).toContain('prototype');
      expect(problem.detail).not.toMatch(/not valid JSON/);
    });

    it('takes those words as values, and keys that merely contain them', () => {
      expect(parseJsonBody(bytes('{"reason":"__proto__","note":"constructor","proto":1}'))).toBeDefined();
      expect(forbiddenKey({ __protocol: 1, constructors: [] })).toBeNull();
    });
  });
});
