import { HttpProblem } from '../../src/shared/http/http-errors.js';
import { cacheDirectives, MAX_DELTA_SECONDS, maxStaleMs } from '../../src/shared/http/max-stale.js';

describe('Cache-Control directives (RFC 9111 §5.2)', () => {
  it('parses tokens, arguments in both forms, case-insensitive names and empty elements', () => {
    expect(cacheDirectives('Max-Stale=5, no-cache,, private="a, \\"b\\"" ,max-age=0')).toEqual([
      { name: 'max-stale', value: '5' },
      { name: 'no-cache', value: null },
      { name: 'private', value: 'a, "b"' },
      { name: 'max-age', value: '0' },
    ]);
    expect(cacheDirectives('')).toEqual([]);
  });

  it.each(['max-stale="5', 'max-stale=5 6', '=5', 'max stale', 'max-stale=,'])('refuses %s', (field) => {
    expect(cacheDirectives(field)).toBeNull();
  });
});

describe('the staleness bound of a request', () => {
  const seconds = (header: string | undefined, query?: string) => maxStaleMs(header, query);

  it('is none without max-stale or maxStaleMs, and with a bare max-stale (any staleness)', () => {
    expect(seconds(undefined)).toBeNull();
    expect(seconds('no-cache')).toBeNull();
    expect(seconds('max-stale')).toBeNull();
    expect(seconds('max-age=0, no-store')).toBeNull();
  });

  it('is max-stale in milliseconds, or maxStaleMs, whichever is stricter', () => {
    expect(seconds('max-stale=2')).toBe(2000);
    expect(seconds('max-stale="3"')).toBe(3000);
    expect(seconds('MAX-STALE=0')).toBe(0);
    expect(seconds(undefined, '250')).toBe(250);
    expect(seconds('max-stale=2', '250')).toBe(250);
    expect(seconds('max-stale=1', '60000')).toBe(1000);
    expect(seconds('max-stale, max-stale=4, max-stale=7')).toBe(4000);
    expect(maxStaleMs(['no-cache', 'max-stale=9'], undefined)).toBe(9000);
  });

  it('takes delta-seconds beyond 2^31 as 2^31 (RFC 9111 §1.2.2)', () => {
    expect(seconds('max-stale=99999999999999999999')).toBe(MAX_DELTA_SECONDS * 1000);
    expect(seconds(`max-stale=${MAX_DELTA_SECONDS + 1}`)).toBe(MAX_DELTA_SECONDS * 1000);
  });

  it.each([
    'max-stale=abc',
    'max-stale=-1',
    'max-stale=1.5',
    'max-stale="2',
    'max-stale=""',
    'x y, max-stale=1',
  ])('Cache-Control: %s is a 400 INVALID_CACHE_CONTROL', (header) => {
    let error: unknown;
    try {
      maxStaleMs(header, undefined);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HttpProblem);
    expect((error as HttpProblem).body).toMatchObject({
      status: 400,
      code: 'INVALID_CACHE_CONTROL',
      errors: [{ field: 'Cache-Control' }],
    });
  });
});
