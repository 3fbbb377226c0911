import esdb, { type EventStoreDBClient } from '@eventstore/db-client';
import type { JsonObject } from '../event-store.port.js';
import { isCommandErrorOf, toPortError } from './esdb-errors.js';
import { decodeJson } from './esdb-mapping.js';
import { drain, withDeadline, type Deadline } from './esdb-reads.js';

// The client is CommonJS: take its named exports from the default import.
const { ErrorType, jsonEvent, BACKWARDS, END, NO_STREAM } = esdb;

/** Attempts of a metadata update that lost a race with another writer. */
const ATTEMPTS = 4;

/** The metadata stream of a stream (`$$<stream>`), where its `$metadata` events are appended. */
export function metastreamOf(streamId: string): string {
  return `$$${streamId}`;
}

/**
 * A stream's newest metadata as the server stores it (`$maxCount`, `$tb`, `$acl`, custom properties), and
 * the revision of the metadata stream it was read at. The client's own getStreamMetadata is not used: it
 * answers a commit position where it promises the metastream revision, and cannot guard a write with it.
 */
export async function readRawMetadata(
  client: EventStoreDBClient,
  streamId: string,
  deadline: Deadline,
): Promise<{ raw: JsonObject; revision: bigint | null }> {
  let found: { raw: JsonObject; revision: bigint | null } = { raw: {}, revision: null };
  try {
    await drain(
      client.readStream(metastreamOf(streamId), { direction: BACKWARDS, fromRevision: END, maxCount: 1 }),
      (resolved) => {
        const event = resolved.event;
        if (event) found = { raw: decodeJson(event.data), revision: event.revision };
      },
      deadline,
    );
  } catch (error) {
    if (!isCommandErrorOf(error, ErrorType.STREAM_NOT_FOUND)) throw toPortError(error, streamId);
  }
  return found;
}

/**
 * Changes a stream's metadata by `change` (null: nothing to change) and keeps everything else: the metadata
 * event replaces the whole metadata, so it is read, changed and written back at the revision it was read at —
 * again if another writer came in between. (Client 6.2.1's setStreamMetadata writes only what it is given,
 * which drops the truncation `$tb` and ACLs an operator set.)
 */
export async function updateRawMetadata(
  client: EventStoreDBClient,
  streamId: string,
  change: (raw: JsonObject) => JsonObject | null,
  deadline: Deadline,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const { raw, revision } = await readRawMetadata(client, streamId, deadline);
    const next = change(raw);
    if (next === null) return;
    try {
      await withDeadline(
        client.appendToStream(metastreamOf(streamId), jsonEvent({ type: '$metadata', data: next }), {
          expectedRevision: revision ?? NO_STREAM,
          deadline: deadline.ms,
        }),
        { ...deadline, ms: deadline.ms + 1_000 },
      );
      return;
    } catch (error) {
      const raced = isCommandErrorOf(error, ErrorType.WRONG_EXPECTED_VERSION);
      if (!raced || attempt >= ATTEMPTS) throw toPortError(error, metastreamOf(streamId));
    }
  }
}
