import esdb, {
  type AppendExpectedRevision,
  type ResolvedEvent,
  type AllStreamResolvedEvent,
} from '@eventstore/db-client';
import {
  EventStore,
  EventStoreUnavailableError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventToAppend,
  type ExpectedRevision,
  type JsonObject,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamMetadata,
} from '../event-store.port.js';

// The client is CommonJS: take its named exports from the default import.
const {
  EventStoreDBClient,
  jsonEvent,
  ErrorType,
  isCommandError,
  convertToCommandError,
  START,
  END,
  FORWARDS,
  BACKWARDS,
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
} = esdb;

type Client = InstanceType<typeof EventStoreDBClient>;

/**
 * EventStoreDB (21.10+, tested against 24.10) through @eventstore/db-client 6.2.1. A thin mapping: bigint
 * revisions and positions pass straight through; client errors become the port's errors. Needs server 22.6+
 * for the global position of stream events.
 */
export class EsdbEventStore extends EventStore {
  private readonly client: Client;

  constructor(connectionString: string) {
    super();
    this.client = EventStoreDBClient.connectionString(connectionString);
  }

  async append(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    const expectedRevision: AppendExpectedRevision =
      expected === 'any'
        ? ANY
        : expected === 'no_stream'
          ? NO_STREAM
          : expected === 'stream_exists'
            ? STREAM_EXISTS
            : expected;
    try {
      const result = await this.client.appendToStream(
        streamId,
        events.map((e) => jsonEvent({ id: e.id, type: e.type, data: e.data, metadata: e.metadata })),
        { expectedRevision },
      );
      return { nextExpectedRevision: result.nextExpectedRevision, position: result.position?.commit ?? -1n };
    } catch (error) {
      throw this.translate(error, streamId, expected);
    }
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    if (options.limit === 0) return [];
    const backwards = options.direction === 'backwards';
    const out: RecordedEvent[] = [];
    try {
      const read = this.client.readStream(streamId, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision: options.from ?? (backwards ? END : START),
        ...(options.limit !== undefined ? { maxCount: options.limit } : {}),
      });
      for await (const resolved of read) {
        const event = toRecorded(resolved);
        if (event) out.push(event);
      }
    } catch (error) {
      if (isCommandError(error as Error) && (error as { type?: string }).type === ErrorType.STREAM_NOT_FOUND)
        return [];
      throw this.translate(error, streamId);
    }
    return out;
  }

  async streamRevision(streamId: string): Promise<bigint | 'no_stream'> {
    const [last] = await this.readStream(streamId, { direction: 'backwards', limit: 1 });
    return last ? last.revision : 'no_stream';
  }

  /** 6.x `readAll` cannot filter on the server: system events are dropped here. */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const after = options.after ?? -1n;
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
    const out: RecordedEvent[] = [];
    if (limit <= 0) return out;
    try {
      const read = this.client.readAll({
        direction: FORWARDS,
        fromPosition: after < 0n ? START : { commit: after, prepare: after },
      });
      for await (const resolved of read) {
        const event = toRecorded(resolved);
        if (!event || event.type.startsWith('$') || event.streamId.startsWith('$') || event.position <= after)
          continue;
        out.push(event);
        if (out.length >= limit) break;
      }
    } catch (error) {
      throw this.translate(error, '$all');
    }
    return out;
  }

  async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
    try {
      await this.client.setStreamMetadata(
        streamId,
        metadata.maxCount !== undefined ? { maxCount: metadata.maxCount } : {},
      );
    } catch (error) {
      throw this.translate(error, streamId);
    }
  }

  async getStreamMetadata(streamId: string): Promise<StreamMetadata> {
    try {
      const { metadata } = await this.client.getStreamMetadata(streamId);
      return metadata?.maxCount !== undefined ? { maxCount: Number(metadata.maxCount) } : {};
    } catch (error) {
      if (isCommandError(error as Error) && (error as { type?: string }).type === ErrorType.STREAM_NOT_FOUND)
        return {};
      throw this.translate(error, streamId);
    }
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }

  private translate(raw: unknown, streamId: string, expected?: ExpectedRevision): Error {
    // Some client paths (e.g. the server-features probe before an append) reject with the raw gRPC error.
    const error = raw instanceof Error ? convertToCommandError(raw) : raw;
    if (error instanceof Error && isCommandError(error)) {
      if (error.type === ErrorType.WRONG_EXPECTED_VERSION && expected !== undefined) {
        const actual = (error as unknown as { actualVersion: bigint | string }).actualVersion;
        return new WrongExpectedRevisionError(
          streamId,
          expected,
          typeof actual === 'bigint' ? actual : 'no_stream',
        );
      }
      if (
        error.type === ErrorType.UNAVAILABLE ||
        error.type === ErrorType.CANCELLED ||
        error.type === ErrorType.DEADLINE_EXCEEDED ||
        error.type === ErrorType.NOT_LEADER
      ) {
        return new EventStoreUnavailableError(`EventStoreDB is unavailable: ${error.message}`, {
          cause: error,
        });
      }
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}

function decodeJson(value: unknown): JsonObject {
  if (value instanceof Uint8Array) {
    if (value.length === 0) return {};
    return JSON.parse(Buffer.from(value).toString('utf8')) as JsonObject;
  }
  return (value ?? {}) as JsonObject;
}

function toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | null {
  const event = resolved.event;
  if (!event) return null;
  const position = event.position?.commit ?? resolved.commitPosition;
  if (position === undefined) {
    throw new Error('EventStoreDB did not return event positions: a server 22.6 or newer is required');
  }
  return {
    streamId: event.streamId,
    id: event.id,
    type: event.type,
    revision: event.revision,
    position,
    created: event.created,
    data: decodeJson(event.data),
    metadata: decodeJson(event.metadata),
  };
}
