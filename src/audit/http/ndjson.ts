import { toProblem } from '../../shared/http/problem-mapper.js';
import type { AuditEvent } from '../application/audit-event.js';
import type { ReplayPages } from '../application/queries/replay-events/replay-events.query.js';

export const NDJSON = 'application/x-ndjson';

/** Bytes buffered ahead of a slow client before the replay stops reading the store. */
export const REPLAY_BUFFER_BYTES = 64 * 1024;

/**
 * Chunks of at most about this many characters. Small on purpose: V8 allocates larger strings (and the
 * buffers made from them) outside the young generation, where only a full GC frees them, so big page-sized
 * chunks would pile up between full GCs and memory would swell with the replay's length.
 */
const CHUNK_CHARS = 16 * 1024;

function* lines(page: readonly AuditEvent[]): Generator<string> {
  let out = '';
  for (const event of page) {
    out += `${JSON.stringify(event)}\n`;
    if (out.length >= CHUNK_CHARS) {
      yield out;
      out = '';
    }
  }
  if (out.length > 0) yield out;
}

/**
 * The replay as NDJSON text, a page at a time. Once the first line is out the status (200) is sent, so a
 * failure later can only be told in the body: a last line `{"error": <problem details>}` carrying
 * `resumeAfterPosition` (the position of the last event sent, to continue from with `afterPosition`), after
 * which the body ends. An event line always has `position`; only that last line has `error`.
 */
export async function* ndjson(
  first: IteratorResult<AuditEvent[]>,
  rest: ReplayPages,
  onUnexpected: (error: unknown) => void,
): AsyncGenerator<string> {
  let lastPosition: number | null = null;
  try {
    if (first.done) return;
    yield* lines(first.value);
    lastPosition = first.value[first.value.length - 1]?.position ?? lastPosition;
    for await (const page of rest) {
      yield* lines(page);
      lastPosition = page[page.length - 1]?.position ?? lastPosition;
    }
  } catch (error) {
    // The consumer went away (a client that disconnected): there is nobody to tell.
    if (typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError')
      return;
    const { body, unexpected } = toProblem(error);
    if (unexpected) onUnexpected(error);
    yield `${JSON.stringify({ error: { ...body, resumeAfterPosition: lastPosition } })}\n`;
  }
}
