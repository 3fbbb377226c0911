import { createRequire } from 'node:module';
import type * as GrpcJs from '@grpc/grpc-js';
import type * as GoogleAny from 'google-protobuf/google/protobuf/any_pb.js';
import type * as GoogleEmpty from 'google-protobuf/google/protobuf/empty_pb.js';
import type * as PersistentGrpc from '@eventstore/db-client/generated/persistent_grpc_pb.js';
import type * as PersistentPb from '@eventstore/db-client/generated/persistent_pb.js';
import type * as ServerFeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import type * as ServerFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import type * as SharedPb from '@eventstore/db-client/generated/shared_pb.js';
import type * as StatusPb from '@eventstore/db-client/generated/status_pb.js';
import type * as StreamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import type * as StreamsPb from '@eventstore/db-client/generated/streams_pb.js';
import type { RecordedEvent } from '../../src/event-store/event-store.port.js';

/**
 * A STAND-IN for EventStoreDB, not EventStoreDB: a gRPC server in this process, built from the service
 * definitions and messages that @eventstore/db-client 6.2.1 ships (its `generated/` folder) and served with
 * the very @grpc/grpc-js the client uses. It answers the calls the adapter makes the way the server's code
 * (KurrentDB v24.10.14) answers them — only as far as the tests below need, and with a toy log — so that the
 * adapter *and the real client* can be driven through the wire: cancellation, deadlines, decoding, error
 * mapping, persistent-subscription acks. It proves our use of the client, never the server's behaviour: that
 * is the contract suites' job against a real server (CI runs them).
 *
 * Like Kestrel, it allows 100 concurrent streams per HTTP/2 connection.
 */

// Loaded through the client's own resolution, so that the stand-in speaks exactly what the client speaks
// (and no dependency is added for it).
const fromClient = createRequire(createRequire(import.meta.url).resolve('@eventstore/db-client'));
const grpc = fromClient('@grpc/grpc-js') as typeof GrpcJs;
const streamsPb = fromClient('../generated/streams_pb.js') as typeof StreamsPb;
const streamsGrpc = fromClient('../generated/streams_grpc_pb.js') as typeof StreamsGrpc;
const persistentPb = fromClient('../generated/persistent_pb.js') as typeof PersistentPb;
const persistentGrpc = fromClient('../generated/persistent_grpc_pb.js') as typeof PersistentGrpc;
const featuresPb = fromClient('../generated/serverfeatures_pb.js') as typeof ServerFeaturesPb;
const featuresGrpc = fromClient('../generated/serverfeatures_grpc_pb.js') as typeof ServerFeaturesGrpc;
const sharedPb = fromClient('../generated/shared_pb.js') as typeof SharedPb;
const statusPb = fromClient('../generated/status_pb.js') as typeof StatusPb;
const anyPb = fromClient('google-protobuf/google/protobuf/any_pb.js') as typeof GoogleAny;
const emptyPb = fromClient('google-protobuf/google/protobuf/empty_pb.js') as typeof GoogleEmpty;

/**
 * A record of the stand-in's log: an event as the port records it, but with its bytes as stored. Positions
 * are byte-offset-like, as on the server: a few hundred apart, so `position ± 1` is inside a record.
 */
export interface StoredRecord extends Pick<
  RecordedEvent,
  'streamId' | 'id' | 'type' | 'revision' | 'position' | 'created'
> {
  readonly data: Buffer;
  readonly metadata: Buffer;
  readonly json: boolean;
}

export interface NewRecord {
  readonly type: string;
  /** JSON (an object) or raw bytes (a string or a Buffer, stored as application/octet-stream). */
  readonly data: object | string | Buffer;
  readonly metadata?: object;
  readonly id?: string;
}

/** A failed call, as the server fails it: a gRPC status, its message and the `exception` metadata. */
export interface CallFault {
  readonly code: GrpcJs.status;
  readonly details: string;
  readonly exception?: string;
}

/** A batch-append answer carrying an error (what the server sends inside the append stream). */
export interface AppendFault {
  readonly message: string;
  /** `event_store.client.<Type>` packed in the status details; an Empty when absent (not ready, busy). */
  readonly detailsType?: 'MaximumAppendSizeExceeded' | 'StreamDeleted' | 'AccessDenied';
}

/** One subscriber of a persistent subscription, as the stand-in saw it. */
export interface StandInSubscriber {
  readonly group: string;
  readonly bufferSize: number;
  /** What arrived from the client, in order: `ack:<id>`, `nack:<action>:<id>`, `half-close`, `cancel`. */
  readonly received: string[];
  readonly call: GrpcJs.ServerDuplexStream<PersistentPb.ReadReq, PersistentPb.ReadResp>;
}

interface GroupState {
  readonly name: string;
  readonly strategy: string;
  readonly maxRetryCount: number;
  readonly messageTimeoutMs: number;
  readonly filter: string | null;
  checkpoint: bigint | null;
  pushed: bigint;
  inFlight: number;
  parked: bigint;
  /** Position each pushed event was read at, by the id it is acknowledged by. */
  readonly positions: Map<string, bigint>;
}

type Writer<T> = GrpcJs.ServerWritableStream<StreamsPb.ReadReq, T>;

const TICKS_PER_MS = 10_000n;
/** The client sends the three strategies it knows as an enum (CreateReq.ConsumerStrategy). */
const STRATEGIES: Record<number, string> = { 0: 'DispatchToSingle', 1: 'RoundRobin', 2: 'Pinned' };
const FIRST_POSITION = 1_024n;

export class EsdbStandIn {
  /** Every record of the log, in position order. */
  readonly log: StoredRecord[] = [];
  private readonly streams = new Map<string, StoredRecord[]>();
  private nextPosition = FIRST_POSITION;
  private ids = 0;
  /** Streams.Read calls open right now (reads and catch-up subscriptions). */
  openReads = 0;
  /** Streams.Read calls made so far, and the records sent by them. */
  reads = 0;
  recordsSent = 0;
  /** Set to fail every Streams.Read / BatchAppend, or to never answer them. */
  readFault: CallFault | null = null;
  appendFault: AppendFault | null = null;
  hangReads = false;
  hangAppends = false;
  serverVersion: string;
  readonly groups = new Map<string, GroupState>();
  readonly subscribers: StandInSubscriber[] = [];

  private constructor(
    private readonly server: GrpcJs.Server,
    readonly port: number,
    serverVersion: string,
  ) {
    this.serverVersion = serverVersion;
  }

  /** `esdb://` to this stand-in, insecure; `query` is appended (e.g. `defaultDeadline=1000`). */
  connectionString(query = ''): string {
    return `esdb://127.0.0.1:${this.port}?tls=false${query ? `&${query}` : ''}`;
  }

  static async start(options: { serverVersion?: string } = {}): Promise<EsdbStandIn> {
    const server = new grpc.Server({ 'grpc.max_concurrent_streams': 100 });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const standIn = new EsdbStandIn(server, port, options.serverVersion ?? '24.10.14');
    standIn.serve();
    return standIn;
  }

  async close(): Promise<void> {
    this.server.forceShutdown();
  }

  /** Appends to a stream as the server would (no expectation checked). */
  append(streamId: string, records: readonly NewRecord[]): StoredRecord[] {
    const stream = this.streams.get(streamId) ?? [];
    this.streams.set(streamId, stream);
    return records.map((record) => {
      const json = !(typeof record.data === 'string' || Buffer.isBuffer(record.data));
      const data = json ? Buffer.from(JSON.stringify(record.data)) : Buffer.from(record.data);
      const stored: StoredRecord = {
        streamId,
        id: record.id ?? uuid(++this.ids),
        type: record.type,
        revision: BigInt(stream.length),
        position: this.nextPosition,
        created: new Date(),
        data,
        metadata: Buffer.from(record.metadata ? JSON.stringify(record.metadata) : ''),
        json,
      };
      this.nextPosition += 200n + BigInt(data.length);
      stream.push(stored);
      this.log.push(stored);
      return stored;
    });
  }

  /** A `$>` link to `target` in `streamId`, as projections and parking write them: data `N@stream`. */
  link(streamId: string, target: StoredRecord): StoredRecord {
    return this.append(streamId, [{ type: '$>', data: `${target.revision}@${target.streamId}` }])[0]!;
  }

  /**
   * `count` application events of about `bytes` each, so that a read of `$all` nobody finishes stays open on
   * the server (HTTP/2 flow control stops it after about 64 KiB the client does not read).
   */
  fill(count: number, bytes = 200): void {
    this.append(
      'filler-1',
      Array.from({ length: count }, (_, n) => ({ type: 'Filler', data: { n, pad: 'x'.repeat(bytes) } })),
    );
  }

  /** The position just past the last record (the writer's checkpoint). */
  get endPosition(): bigint {
    return this.nextPosition;
  }

  stream(streamId: string): StoredRecord[] {
    return this.streams.get(streamId) ?? [];
  }

  /**
   * Pushes an event to the first subscriber of a group, as the server pushes it: for a replayed parked
   * event (`link` given), both records carry the position the group read the record at — the link's.
   */
  push(group: string, event: StoredRecord, options: { link?: StoredRecord; retryCount?: number } = {}): void {
    const subscriber = this.subscribers.find((s) => s.group === group && !s.received.includes('cancel'));
    if (!subscriber) throw new Error(`nobody is subscribed to ${group}`);
    const readAt = options.link?.position ?? event.position;
    const read = new persistentPb.ReadResp.ReadEvent();
    read.setEvent(recordedEvent(new persistentPb.ReadResp.ReadEvent.RecordedEvent(), event, readAt));
    if (options.link) {
      read.setLink(recordedEvent(new persistentPb.ReadResp.ReadEvent.RecordedEvent(), options.link, readAt));
    }
    read.setCommitPosition(String(readAt));
    read.setRetryCount(options.retryCount ?? 0);
    const state = this.groups.get(group);
    if (state) {
      state.pushed += 1n;
      state.inFlight += 1;
      state.positions.set(options.link?.id ?? event.id, readAt);
    }
    subscriber.call.write(new persistentPb.ReadResp().setEvent(read));
  }

  private serve(): void {
    this.server.addService(featuresGrpc.ServerFeaturesService, {
      getSupportedMethods: (
        _call: GrpcJs.ServerUnaryCall<SharedPb.Empty, ServerFeaturesPb.SupportedMethods>,
        callback: GrpcJs.sendUnaryData<ServerFeaturesPb.SupportedMethods>,
      ) => callback(null, this.supportedMethods()),
    });
    this.server.addService(streamsGrpc.StreamsService, {
      read: (call: Writer<StreamsPb.ReadResp>) => void this.read(call),
      batchAppend: (call: GrpcJs.ServerDuplexStream<StreamsPb.BatchAppendReq, StreamsPb.BatchAppendResp>) =>
        this.batchAppend(call),
    });
    this.server.addService(persistentGrpc.PersistentSubscriptionsService, {
      create: (
        call: GrpcJs.ServerUnaryCall<PersistentPb.CreateReq, PersistentPb.CreateResp>,
        callback: GrpcJs.sendUnaryData<PersistentPb.CreateResp>,
      ) => this.createGroup(call.request, callback),
      read: (call: GrpcJs.ServerDuplexStream<PersistentPb.ReadReq, PersistentPb.ReadResp>) =>
        this.subscribe(call),
      getInfo: (
        call: GrpcJs.ServerUnaryCall<PersistentPb.GetInfoReq, PersistentPb.GetInfoResp>,
        callback: GrpcJs.sendUnaryData<PersistentPb.GetInfoResp>,
      ) => {
        const group = this.groups.get(call.request.getOptions()?.getGroupName() ?? '');
        if (!group)
          return callback(
            fault({
              code: grpc.status.NOT_FOUND,
              details: 'Subscription group does not exist',
              exception: 'persistent-subscription-does-not-exist',
            }),
          );
        callback(null, new persistentPb.GetInfoResp().setSubscriptionInfo(this.info(group)));
      },
      list: (
        _call: GrpcJs.ServerUnaryCall<PersistentPb.ListReq, PersistentPb.ListResp>,
        callback: GrpcJs.sendUnaryData<PersistentPb.ListResp>,
      ) =>
        callback(
          null,
          new persistentPb.ListResp().setSubscriptionsList(
            [...this.groups.values()].map((g) => this.info(g)),
          ),
        ),
    });
  }

  /** What a 24.10 server announces: the methods used here, persistent subscriptions to `$all` included. */
  private supportedMethods(): ServerFeaturesPb.SupportedMethods {
    const methods = [
      ...Object.values(streamsGrpc.StreamsService).map((m) => [m.path, []] as const),
      ...Object.values(persistentGrpc.PersistentSubscriptionsService).map((m) => [m.path, ['all']] as const),
    ].map(([path, features]) => {
      const [, service = '', method = ''] = path.split('/');
      return new featuresPb.SupportedMethod()
        .setServiceName(service.toLowerCase())
        .setMethodName(method.toLowerCase())
        .setFeaturesList([...features]);
    });
    return new featuresPb.SupportedMethods()
      .setMethodsList(methods)
      .setEventStoreServerVersion(this.serverVersion);
  }

  private async read(call: Writer<StreamsPb.ReadResp>): Promise<void> {
    this.reads += 1;
    this.openReads += 1;
    let open = true;
    const closed = (): void => {
      if (open) this.openReads -= 1;
      open = false;
    };
    call.once('cancelled', closed);
    call.once('finish', closed);
    call.once('close', closed);
    if (this.readFault) return void call.emit('error', fault(this.readFault));
    if (this.hangReads) return;
    const options = call.request.getOptions()!;
    const count = Number(options.getCount() || '0');
    if (options.hasAll()) {
      const all = options.getAll()!;
      let from: bigint | null = null;
      if (all.hasPosition()) {
        from = BigInt(all.getPosition()!.getCommitPosition());
        // Only record boundaries can be read from (and the end of the log).
        if (from !== this.endPosition && !this.log.some((r) => r.position === from)) {
          return void call.emit(
            'error',
            fault({
              code: grpc.status.INVALID_ARGUMENT,
              details: 'Trying to read from an invalid position.',
            }),
          );
        }
      }
      if (options.hasSubscription()) return this.subscribeToAll(call, options, from);
      const backwards = options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;
      const records = backwards
        ? this.log.filter((r) => (all.hasEnd() || from === null ? true : r.position < from)).reverse()
        : this.log.filter((r) => (all.hasStart() || from === null ? true : r.position >= from));
      return this.send(
        call,
        lazily(records.slice(0, count), (r) => readEvent(r)),
      );
    }
    const streamOptions = options.getStream()!;
    const streamId = Buffer.from(streamOptions.getStreamIdentifier()!.getStreamName_asU8()).toString();
    const stream = this.streams.get(streamId);
    if (!stream || stream.length === 0) {
      const missing = new streamsPb.ReadResp.StreamNotFound().setStreamIdentifier(identifier(streamId));
      return this.send(call, [new streamsPb.ReadResp().setStreamNotFound(missing)]);
    }
    const backwards = options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;
    const revision = streamOptions.hasRevision() ? BigInt(streamOptions.getRevision()) : null;
    const records = backwards
      ? stream.filter((r) => revision === null || r.revision <= revision).reverse()
      : stream.filter((r) => revision === null || r.revision >= revision);
    const resolve = options.getResolveLinks();
    return this.send(
      call,
      lazily(records.slice(0, count), (r) => readEvent(r, resolve ? this.target(r) : undefined)),
    );
  }

  /** A filtered catch-up subscription: the matching records after `from`, a checkpoint, `caughtUp`, then open. */
  private async subscribeToAll(
    call: Writer<StreamsPb.ReadResp>,
    options: StreamsPb.ReadReq.Options,
    from: bigint | null,
  ): Promise<void> {
    const regex = options.getFilter()?.getEventType()?.getRegex();
    const matches = regex ? new RegExp(regex) : null;
    const records = this.log.filter(
      (r) => (from === null || r.position > from) && (!matches || matches.test(r.type)),
    );
    const confirmation = new streamsPb.ReadResp().setConfirmation(
      new streamsPb.ReadResp.SubscriptionConfirmation().setSubscriptionId('stand-in'),
    );
    const last = this.log[this.log.length - 1]?.position ?? 0n;
    const checkpoint = new streamsPb.ReadResp.Checkpoint()
      .setCommitPosition(String(last))
      .setPreparePosition(String(last));
    await this.send(
      call,
      [
        confirmation,
        ...records.map((r) => readEvent(r)),
        new streamsPb.ReadResp().setCheckpoint(checkpoint),
        new streamsPb.ReadResp().setCaughtUp(new streamsPb.ReadResp.CaughtUp()),
      ],
      false,
    );
  }

  /** Writes with backpressure, as a server does; a call the client cancelled stops receiving. */
  private async send(
    call: Writer<StreamsPb.ReadResp>,
    messages: Iterable<StreamsPb.ReadResp>,
    end = true,
  ): Promise<void> {
    for (const message of messages) {
      if (call.cancelled) return;
      if (message.hasEvent()) this.recordsSent += 1;
      if (!call.write(message)) await writable(call);
    }
    if (end && !call.cancelled) call.end();
  }

  private target(link: StoredRecord): StoredRecord | null | undefined {
    if (link.type !== '$>') return undefined;
    const [revision, ...stream] = link.data.toString().split('@');
    return this.streams.get(stream.join('@'))?.[Number(revision)] ?? null;
  }

  private batchAppend(
    call: GrpcJs.ServerDuplexStream<StreamsPb.BatchAppendReq, StreamsPb.BatchAppendResp>,
  ): void {
    const pending = new Map<
      string,
      { options: StreamsPb.BatchAppendReq.Options; messages: StreamsPb.BatchAppendReq.ProposedMessage[] }
    >();
    call.on('data', (request: StreamsPb.BatchAppendReq) => {
      const correlation = request.getCorrelationId()!;
      const key = correlation.getString();
      const entry = pending.get(key) ?? { options: request.getOptions()!, messages: [] };
      pending.set(key, entry);
      entry.messages.push(...request.getProposedMessagesList());
      if (!request.getIsFinal() || this.hangAppends) return;
      pending.delete(key);
      const streamId = Buffer.from(entry.options.getStreamIdentifier()!.getStreamName_asU8()).toString();
      const response = new streamsPb.BatchAppendResp()
        .setCorrelationId(correlation)
        .setStreamIdentifier(identifier(streamId));
      call.write(this.appendOrFail(response, streamId, entry.options, entry.messages));
    });
    call.on('end', () => call.end());
  }

  private appendOrFail(
    response: StreamsPb.BatchAppendResp,
    streamId: string,
    options: StreamsPb.BatchAppendReq.Options,
    messages: readonly StreamsPb.BatchAppendReq.ProposedMessage[],
  ): StreamsPb.BatchAppendResp {
    if (this.appendFault) return response.setError(appendError(this.appendFault));
    const current = this.stream(streamId).length - 1;
    const Case = streamsPb.BatchAppendReq.Options.ExpectedStreamPositionCase;
    const expected = options.getExpectedStreamPositionCase();
    const wrong =
      (expected === Case.NO_STREAM && current >= 0) ||
      (expected === Case.STREAM_EXISTS && current < 0) ||
      (expected === Case.STREAM_POSITION && BigInt(options.getStreamPosition()) !== BigInt(current));
    if (wrong) {
      const details = new sharedPb.WrongExpectedVersion();
      if (current < 0) details.setCurrentNoStream(new emptyPb.Empty());
      else details.setCurrentStreamRevision(String(current));
      return response.setError(
        status('WrongExpectedVersion', details.serializeBinary(), 'Wrong expected version'),
      );
    }
    const stored = this.append(
      streamId,
      messages.map((m) => {
        const json = m.getMetadataMap().get('content-type') === 'application/json';
        const data = Buffer.from(m.getData_asU8());
        const metadata = Buffer.from(m.getCustomMetadata_asU8());
        return {
          id: m.getId()!.getString(),
          type: m.getMetadataMap().get('type') ?? '',
          data: json ? (JSON.parse(data.toString()) as object) : data,
          ...(metadata.length > 0 ? { metadata: JSON.parse(metadata.toString()) as object } : {}),
        };
      }),
    );
    const last = stored[stored.length - 1]!;
    const position = new sharedPb.AllStreamPosition()
      .setCommitPosition(String(last.position))
      .setPreparePosition(String(last.position));
    return response.setSuccess(
      new streamsPb.BatchAppendResp.Success().setCurrentRevision(String(last.revision)).setPosition(position),
    );
  }

  private createGroup(
    request: PersistentPb.CreateReq,
    callback: GrpcJs.sendUnaryData<PersistentPb.CreateResp>,
  ): void {
    const options = request.getOptions()!;
    const name = options.getGroupName();
    if (this.groups.has(name)) {
      return callback(
        fault({
          code: grpc.status.ALREADY_EXISTS,
          details: `Subscription group ${name} on stream $all exists.`,
          exception: 'persistent-subscription-exists',
        }),
      );
    }
    const settings = options.getSettings()!;
    this.groups.set(name, {
      name,
      strategy: settings.getConsumerStrategy() || STRATEGIES[settings.getNamedConsumerStrategy()] || '',
      maxRetryCount: settings.getMaxRetryCount(),
      messageTimeoutMs: settings.getMessageTimeoutMs(),
      filter: options.getAll()?.getFilter()?.getEventType()?.getRegex() ?? null,
      checkpoint: null,
      pushed: 0n,
      inFlight: 0,
      parked: 0n,
      positions: new Map(),
    });
    callback(null, new persistentPb.CreateResp());
  }

  private subscribe(call: GrpcJs.ServerDuplexStream<PersistentPb.ReadReq, PersistentPb.ReadResp>): void {
    let subscriber: StandInSubscriber | null = null;
    call.on('data', (request: PersistentPb.ReadReq) => {
      if (request.hasOptions()) {
        const options = request.getOptions()!;
        subscriber = {
          group: options.getGroupName(),
          bufferSize: options.getBufferSize(),
          received: [],
          call,
        };
        this.subscribers.push(subscriber);
        call.write(
          new persistentPb.ReadResp().setSubscriptionConfirmation(
            new persistentPb.ReadResp.SubscriptionConfirmation().setSubscriptionId(
              `${subscriber.group}::stand-in`,
            ),
          ),
        );
        return;
      }
      const state = subscriber ? this.groups.get(subscriber.group) : undefined;
      // Settled events move the checkpoint (as if every one before them were settled too: a toy model).
      const settle = (ids: readonly SharedPb.UUID[], label: string): void => {
        for (const id of ids) {
          subscriber?.received.push(`${label}:${id.getString()}`);
          const position = state?.positions.get(id.getString());
          if (state && position !== undefined && (state.checkpoint === null || position > state.checkpoint)) {
            state.checkpoint = position;
          }
        }
        if (state) state.inFlight = Math.max(0, state.inFlight - ids.length);
      };
      if (request.hasAck()) settle(request.getAck()!.getIdsList(), 'ack');
      if (request.hasNack())
        settle(request.getNack()!.getIdsList(), `nack:${request.getNack()!.getAction()}`);
    });
    call.on('end', () => subscriber?.received.push('half-close'));
    call.on('cancelled', () => subscriber?.received.push('cancel'));
  }

  private info(group: GroupState): PersistentPb.SubscriptionInfo {
    const connections = this.subscribers
      .filter((s) => s.group === group.name && !s.received.includes('cancel'))
      .map(() => new persistentPb.SubscriptionInfo.ConnectionInfo().setFrom('stand-in').setUsername('admin'));
    const checkpoint = group.checkpoint === null ? '' : `C:${group.checkpoint}/P:${group.checkpoint}`;
    return new persistentPb.SubscriptionInfo()
      .setEventSource('$all')
      .setGroupName(group.name)
      .setStatus('Live')
      .setConnectionsList(connections)
      .setTotalItems(String(group.pushed))
      .setCountSinceLastMeasurement('0')
      .setLastCheckpointedEventPosition(checkpoint)
      .setLastKnownEventPosition(checkpoint)
      .setStartFrom('C:0/P:0')
      .setNamedConsumerStrategy(group.strategy)
      .setMaxRetryCount(group.maxRetryCount)
      .setMessageTimeoutMilliseconds(group.messageTimeoutMs)
      .setLiveBufferCount('0')
      .setTotalInFlightMessages(group.inFlight)
      .setParkedMessageCount(String(group.parked));
  }
}

/** Messages made as they are sent: a read nobody finishes never builds the rest. */
function* lazily<T>(
  items: readonly T[],
  make: (item: T) => StreamsPb.ReadResp,
): Iterable<StreamsPb.ReadResp> {
  for (const item of items) yield make(item);
}

/** Resolves when the call can take more (or is gone), leaving no listener behind. */
function writable(call: Writer<StreamsPb.ReadResp>): Promise<void> {
  return new Promise((resolve) => {
    const events = ['drain', 'cancelled', 'close', 'error'] as const;
    const done = (): void => {
      for (const event of events) call.removeListener(event, done);
      resolve();
    };
    for (const event of events) call.once(event, done);
  });
}

function uuid(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

function identifier(streamId: string): SharedPb.StreamIdentifier {
  return new sharedPb.StreamIdentifier().setStreamName(Buffer.from(streamId));
}

interface RecordedEventMessage<T> {
  setId(value: SharedPb.UUID): T;
  setStreamIdentifier(value: SharedPb.StreamIdentifier): T;
  setStreamRevision(value: string): T;
  setCommitPosition(value: string): T;
  setPreparePosition(value: string): T;
  getMetadataMap(): { set(key: string, value: string): unknown };
  setData(value: Uint8Array): T;
  setCustomMetadata(value: Uint8Array): T;
}

/** A record as the server sends it, at the position given (its own, or the one it was read at). */
function recordedEvent<T extends RecordedEventMessage<T>>(
  message: T,
  record: StoredRecord,
  position: bigint,
): T {
  message
    .setId(new sharedPb.UUID().setString(record.id))
    .setStreamIdentifier(identifier(record.streamId))
    .setStreamRevision(String(record.revision))
    .setCommitPosition(String(position))
    .setPreparePosition(String(position))
    .setData(record.data)
    .setCustomMetadata(record.metadata);
  const metadata = message.getMetadataMap();
  metadata.set('type', record.type);
  metadata.set('created', String(BigInt(record.created.getTime()) * TICKS_PER_MS));
  metadata.set('content-type', record.json ? 'application/json' : 'application/octet-stream');
  return message;
}

/** A read result: the record, or (a resolved link) its target with the link; each at its own position. */
function readEvent(record: StoredRecord, target?: StoredRecord | null): StreamsPb.ReadResp {
  const event = new streamsPb.ReadResp.ReadEvent();
  const Recorded = streamsPb.ReadResp.ReadEvent.RecordedEvent;
  if (target === undefined) event.setEvent(recordedEvent(new Recorded(), record, record.position));
  else {
    if (target) event.setEvent(recordedEvent(new Recorded(), target, target.position));
    event.setLink(recordedEvent(new Recorded(), record, record.position));
  }
  event.setCommitPosition(String(record.position));
  return new streamsPb.ReadResp().setEvent(event);
}

function fault({ code, details, exception }: CallFault): Partial<GrpcJs.StatusObject> {
  const metadata = new grpc.Metadata();
  if (exception) metadata.set('exception', exception);
  return { code, details, metadata };
}

function status(type: string, details: Uint8Array, message: string): StatusPb.Status {
  const packed = new anyPb.Any();
  packed.pack(details, `event_store.client.${type}`);
  return new statusPb.Status().setMessage(message).setDetails(packed);
}

/** The error of a batch-append answer: typed details, or an Empty (not ready, busy) as the server sends. */
function appendError({ message, detailsType }: AppendFault): StatusPb.Status {
  if (detailsType === 'MaximumAppendSizeExceeded') {
    return status(
      detailsType,
      new sharedPb.MaximumAppendSizeExceeded().setMaxappendsize(1_048_576).serializeBinary(),
      message,
    );
  }
  if (detailsType === 'StreamDeleted')
    return status(detailsType, new sharedPb.StreamDeleted().serializeBinary(), message);
  if (detailsType === 'AccessDenied')
    return status(detailsType, new sharedPb.AccessDenied().serializeBinary(), message);
  const packed = new anyPb.Any();
  packed.pack(new sharedPb.Empty().serializeBinary(), 'google.protobuf.Empty');
  return new statusPb.Status().setMessage(message).setDetails(packed);
}
