import type { Json } from '../../../event-store/event-store.port.js';
import { sameJson } from '../../same-json.js';
import type { FieldDrift } from './job.js';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function child(path: string, key: string): string {
  if (IDENTIFIER.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The leaves where `live` differs from `expected`, with their paths (`status`, `lines[0].quantity`,
 * `["odd key"]`): objects are compared key by key, arrays index by index, anything else as a whole. A key
 * or index present on one side only is reported with `presence`. At most `max` differences (the first ones).
 */
export function diffFields(live: Json, expected: Json, max = 50, path = ''): FieldDrift[] {
  const out: FieldDrift[] = [];
  walk(live, expected, path, out, max);
  return out;
}

function walk(live: Json, expected: Json, path: string, out: FieldDrift[], max: number): void {
  if (out.length >= max || sameJson(live, expected)) return;
  if (isObject(live) && isObject(expected)) {
    const keys = new Set([...Object.keys(live), ...Object.keys(expected)]);
    for (const key of keys) {
      const inLive = Object.prototype.hasOwnProperty.call(live, key);
      const inExpected = Object.prototype.hasOwnProperty.call(expected, key);
      if (inLive && inExpected) walk(live[key]!, expected[key]!, child(path, key), out, max);
      else if (out.length < max) {
        out.push({
          path: child(path, key),
          live: inLive ? live[key]! : null,
          expected: inExpected ? expected[key]! : null,
          presence: inLive ? 'live-only' : 'expected-only',
        });
      }
    }
    return;
  }
  if (Array.isArray(live) && Array.isArray(expected)) {
    for (let i = 0; i < Math.max(live.length, expected.length); i++) {
      const at = `${path}[${i}]`;
      if (i < live.length && i < expected.length) walk(live[i]!, expected[i]!, at, out, max);
      else if (out.length < max) {
        out.push({
          path: at,
          live: i < live.length ? live[i]! : null,
          expected: i < expected.length ? expected[i]! : null,
          presence: i < live.length ? 'live-only' : 'expected-only',
        });
      }
    }
    return;
  }
  out.push({ path: path || '(document)', live, expected });
}
