import {
  EventStore,
  type AppendResult,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadByCorrelationOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamMetadata,
} from '../../src/event-store/event-store.port.js';

/** Forwards every call to a real store; tests override the calls they want to observe or disturb. */
export class DelegatingEventStore extends EventStore {
  constructor(protected readonly inner: EventStore) {
    super();
  }

  append(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    return this.inner.append(streamId, events, expected);
  }
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.inner.readStream(streamId, options);
  }
  streamRevision(streamId: string): Promise<bigint | 'no_stream'> {
    return this.inner.streamRevision(streamId);
  }
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.inner.readAll(options);
  }
  countAll(options?: ReadAllOptions): Promise<number> {
    return this.inner.countAll(options);
  }
  headPosition(): Promise<bigint> {
    return this.inner.headPosition();
  }
  eventAt(position: bigint): Promise<RecordedEvent | null> {
    return this.inner.eventAt(position);
  }
  readByCorrelation(correlationId: string, options?: ReadByCorrelationOptions): Promise<RecordedEvent[]> {
    return this.inner.readByCorrelation(correlationId, options);
  }
  setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
    return this.inner.setStreamMetadata(streamId, metadata);
  }
  getStreamMetadata(streamId: string): Promise<StreamMetadata> {
    return this.inner.getStreamMetadata(streamId);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
