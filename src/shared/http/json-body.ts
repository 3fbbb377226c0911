import { problem, type ProblemDetails } from './problem.js';
import { HttpProblem } from './http-errors.js';

/**
 * How deeply a JSON body may nest objects and arrays. No route takes more than a few levels (the payment
 * webhook's provider events about five); code that walks a body recursively (class-transformer, the canonical
 * JSON of the idempotency hash) overflows the stack at about 1,300 levels, so the limit is checked before any
 * of it runs.
 */
export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether the JSON text nests objects and arrays deeper than `limit`: one pass over the bytes, no recursion,
 * stopping as soon as it knows. Brackets inside strings do not count. UTF-8 never puts an ASCII byte inside a
 * multi-byte character, so the bytes can be read as they are. (Malformed text gives some answer; the parser
 * refuses it after.)
 */
export function nestsDeeperThan(json: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const byte = json[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** A key refused in any JSON body, and where it was found (`$.a.b`). */
export interface ForbiddenKey {
  readonly key: '__proto__' | 'constructor';
  readonly path: string;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/**
 * The first key `__proto__` or `constructor` in a parsed body, at any depth. In JavaScript `__proto__` replaces
 * an object's prototype and `constructor.prototype` reaches it (prototype pollution) when a body is merged into
 * an object; and class-transformer drops a `constructor` key without a word, so the strict validation would
 * not even see it. No route has a field of either name: they are refused everywhere. Walks the value with an
 * explicit stack (no recursion).
 */
export function forbiddenKey(value: unknown): ForbiddenKey | null {
  const stack: { value: unknown; path: string }[] = [{ value, path: '$' }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (!isObject(current)) continue;
    if (Array.isArray(current)) {
      current.forEach((item, index) => stack.push({ value: item, path: `${path}[${index}]` }));
      continue;
    }
    for (const key of Object.keys(current)) {
      if (key === '__proto__' || key === 'constructor') return { key, path };
      stack.push({ value: current[key], path: `${path}.${key}` });
    }
  }
  return null;
}

/** The problems a JSON body can be refused with before any route sees it. */
export const JSON_BODY_PROBLEMS = {
  empty: (): ProblemDetails =>
    problem(
      400,
      'EMPTY_BODY',
      'The body is empty but its Content-Type says JSON; send {} or no Content-Type',
    ),
  malformed: (): ProblemDetails => problem(400, 'MALFORMED_JSON', 'The request body is not valid JSON'),
  tooDeep: (): ProblemDetails =>
    problem(
      400,
      'JSON_TOO_DEEP',
      `The request body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep; no route takes that`,
      { maxDepth: MAX_JSON_DEPTH },
    ),
  forbiddenKey: ({ key, path }: ForbiddenKey): ProblemDetails =>
    problem(
      400,
      'FORBIDDEN_JSON_KEY',
      `The body is valid JSON, but its key "${key}" (in ${path}) is refused: in JavaScript ${
        key === '__proto__' ? 'that key replaces' : 'that key, holding "prototype", reaches'
      } an object's prototype (prototype pollution); no route has a field of that name`,
      { key, path },
    ),
} as const;

/**
 * Parses a JSON request body: refuses an empty body, one nested deeper than MAX_JSON_DEPTH (before parsing, so
 * nothing ever walks it), malformed JSON and prototype keys, each with its own 400 problem. A leading byte
 * order mark is skipped, as Fastify's parser does.
 */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new HttpProblem(JSON_BODY_PROBLEMS.empty());
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) throw new HttpProblem(JSON_BODY_PROBLEMS.tooDeep());
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpProblem(JSON_BODY_PROBLEMS.malformed());
  }
  const forbidden = forbiddenKey(value);
  if (forbidden) throw new HttpProblem(JSON_BODY_PROBLEMS.forbiddenKey(forbidden));
  return value;
}
