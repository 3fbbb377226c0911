import { HttpProblem } from './http-errors.js';

/** `?maxStaleMs`: milliseconds, 0 to 12 digits (what the OpenAPI document states). */
export const MAX_STALE_MS_PATTERN = /^\d{1,12}$/;

/** RFC 9111 §1.2.2: a delta-seconds larger than a cache can represent is taken as 2^31 seconds. */
export const MAX_DELTA_SECONDS = 2_147_483_648;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DELTA_SECONDS = /^\d+$/;

interface Directive {
  readonly name: string;
  /** The argument (unquoted), or null when there is none. */
  readonly value: string | null;
}

/**
 * The directives of a Cache-Control field value (RFC 9111 §5.2): `name[=token|quoted-string]`, separated by
 * commas (empty elements allowed), names case-insensitive. A quoted string may hold commas and `\`-escapes.
 * Null when the value is not a directive list at all.
 */
export function cacheDirectives(field: string): Directive[] | null {
  const directives: Directive[] = [];
  let i = 0;
  const n = field.length;
  const skipSpace = () => {
    while (i < n && (field[i] === ' ' || field[i] === '\t')) i++;
  };
  for (;;) {
    skipSpace();
    if (i >= n) return directives;
    if (field[i] === ',') {
      i++;
      continue;
    }
    let end = i;
    while (end < n && !'=,; \t"'.includes(field[end]!)) end++;
    const name = field.slice(i, end);
    if (!TOKEN.test(name)) return null;
    i = end;
    skipSpace();
    let value: string | null = null;
    if (field[i] === '=') {
      i++;
      skipSpace();
      if (field[i] === '"') {
        let text = '';
        i++;
        for (;;) {
          if (i >= n) return null; // an unterminated quoted string
          const c = field[i]!;
          if (c === '"') break;
          if (c === '\\' && i + 1 < n) i++;
          text += field[i];
          i++;
        }
        i++;
        value = text;
      } else {
        end = i;
        while (end < n && field[end] !== ',' && field[end] !== ' ' && field[end] !== '\t') end++;
        value = field.slice(i, end);
        if (!TOKEN.test(value)) return null;
        i = end;
      }
    }
    directives.push({ name: name.toLowerCase(), value });
    skipSpace();
    if (i < n && field[i] !== ',') return null;
  }
}

function invalid(detail: string): HttpProblem {
  return HttpProblem.badRequest('INVALID_CACHE_CONTROL', detail, {
    errors: [{ field: 'Cache-Control', message: detail }],
  });
}

/**
 * The staleness bound a request sets, in milliseconds, or null for none: the stricter of `Cache-Control:
 * max-stale=<seconds>` (RFC 9111 §5.2.1.2; a bare `max-stale` accepts any staleness, a larger value than 2^31
 * counts as 2^31) and `?maxStaleMs` (validated by the DTO). Other directives are not this service's to
 * honour, and are ignored; a max-stale with an argument that is not delta-seconds is a 400 (a bound the client
 * believes it set must not be dropped silently).
 */
export function maxStaleMs(
  cacheControl: string | string[] | undefined,
  queryMs: string | undefined,
): number | null {
  let bound: number | null = queryMs === undefined ? null : Number(queryMs);
  if (cacheControl === undefined) return bound;
  const field = Array.isArray(cacheControl) ? cacheControl.join(', ') : cacheControl;
  if (!/max-stale/i.test(field)) return bound;
  const directives = cacheDirectives(field);
  if (directives === null) {
    throw invalid('Cache-Control is not a list of directives (RFC 9111), e.g. Cache-Control: max-stale=2');
  }
  for (const { name, value } of directives) {
    if (name !== 'max-stale' || value === null) continue;
    if (!DELTA_SECONDS.test(value)) {
      throw invalid(`max-stale takes whole seconds (max-stale=2), not "${value.slice(0, 40)}"`);
    }
    const seconds = Math.min(Number(value.length > 10 ? MAX_DELTA_SECONDS : value), MAX_DELTA_SECONDS);
    const ms = seconds * 1000;
    bound = bound === null ? ms : Math.min(bound, ms);
  }
  return bound;
}
