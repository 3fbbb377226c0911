import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import esdb, {
  type EventStoreDBClient,
  type PersistentSubscriptionToAllInfo,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { ApplicationError } from '../../shared/application/errors.js';
import {
  ConsumerGroups,
  type ConsumerGroupInfo,
  type ConsumerGroupSettings,
  type DeliveryHandler,
  type GroupSubscription,
  type ParkedEvent,
} from '../consumer-groups.port.js';
import { EventStoreUnavailableError, type RecordedEvent } from '../event-store.port.js';
import { assertValidSettings } from '../consumer-group-rules.js';
import { isCommandErrorOf, toPortError } from './esdb-errors.js';
import type { GroupProgress } from './esdb-group-recovery.js';
import {
  EsdbGroupSubscription,
  type GroupConnection,
  type GroupConnector,
} from './esdb-group-subscription.js';
import { eventTypeRegex, positionOf, recordedEventAt } from './esdb-mapping.js';
import { readRawMetadata, updateRawMetadata } from './esdb-metadata.js';
import { drain, onPipedCall, type Deadline, type GrpcDuplexCall } from './esdb-reads.js';
import type { ConsumerStrategy } from './esdb-server.js';
import { parseParkedReason, type Backoff } from './esdb-settlement.js';

// The client is CommonJS: take its named exports from the default import.
const {
  ErrorType,
  eventTypeFilter,
  persistentSubscriptionToAllSettingsFromDefaults,
  START,
  FORWARDS,
  PINNED,
  ROUND_ROBIN,
} = esdb;

export interface EsdbConsumerGroupOptions {
  /** Backoff before a retried event is delivered again (default 100 ms doubling to 10 s). */
  readonly retryBackoff?: Backoff;
  /** Backoff before a dropped group subscription resubscribes (default 200 ms doubling to 10 s). */
  readonly reconnectBackoff?: Backoff;
  /**
   * Told when a group subscription drops or fails to connect (it resubscribes by itself). Default: a
   * process warning, so that a group that cannot connect (access denied, server gone) is not silent.
   */
  readonly onGroupError?: (group: string, error: unknown) => void;
  /**
   * RoundRobin (the default) or Pinned (one stream's events on one subscriber, best effort; needs server
   * 24.10.14+, checked at start: older servers lose events with it).
   */
  readonly consumerStrategy?: ConsumerStrategy;
  /** How often a connected subscriber asks its group's progress, to move the group's settled mark (10 s). */
  readonly settledPollMs?: number;
}

/** What the store gives its consumer groups besides the client. */
export interface EsdbConsumerGroupWiring {
  /** The server check (version, strategy), done before a group is first created. */
  readonly serverCheck: () => Promise<unknown>;
  /** The store's readAll by event type, which a group recovery re-reads with. */
  readonly readMatching: (after: bigint, types: readonly string[], limit: number) => Promise<RecordedEvent[]>;
  readonly deadlineMs: number;
}

/**
 * Bumped whenever the server settings derived from the port's settings change (strategy, timeouts, retry
 * allowance): the name of every group changes with it, so the next deploy creates new groups.
 */
const SETTINGS_VERSION = 1;
/**
 * Deliveries the server allows beyond the consumer's `maxRetries` before it parks an event itself. The
 * adapter parks on the handler's own failures (EsdbGroupSubscription counts them); the server's count also
 * grows with every disconnect and message timeout, so it only parks what keeps getting lost that way.
 */
export const SERVER_RETRY_ALLOWANCE = 10;
/**
 * How long the server waits for an ack before it delivers an event again. Its clock starts at the push, not
 * when the handler gets the event: up to two batches wait here (bufferSizeFor), plus a retry's backoff (10 s
 * at most). The default of 30 s made slow batches come back as duplicates.
 */
export const MESSAGE_TIMEOUT_MS = 120_000;
/** After the last ack of a stopping subscriber, time for it to leave before the call is cancelled. */
const FLUSH_GRACE_MS = 200;

/**
 * The group's name on the server: the port's name plus a hash of everything the server fixes when it creates
 * a group (its event-type filter, retry count and consumer strategy cannot be changed afterwards — an update
 * cannot change a `$all` filter, KurrentDB #3673). A deploy that changes them gets a new group, which starts
 * from the first event; the old one stays until an operator deletes it (docs/eventstoredb.md).
 */
export function serverGroupName(settings: ConsumerGroupSettings, strategy: ConsumerStrategy): string {
  const types = [...new Set(settings.eventTypes)].sort();
  const hash = createHash('sha256')
    .update(JSON.stringify({ v: SETTINGS_VERSION, types, maxRetries: settings.maxRetries, strategy }))
    .digest('hex')
    .slice(0, 10);
  return `${settings.group}--${hash}`;
}

/**
 * Server settings of a new group. `startFrom: START` (the default END would miss history); RoundRobin unless
 * Pinned was asked for (see EsdbConsumerGroupOptions); checkpoints at most every second and after as little
 * as one event, so that `groupInfo` follows a quiet group too (the defaults, 2 s and 10 events, would leave a
 * group of a few events without a checkpoint for good).
 */
function groupSettings(settings: ConsumerGroupSettings, strategy: ConsumerStrategy) {
  return persistentSubscriptionToAllSettingsFromDefaults({
    startFrom: START,
    resolveLinkTos: false,
    consumerStrategyName: strategy === 'Pinned' ? PINNED : ROUND_ROBIN,
    maxRetryCount: settings.maxRetries + SERVER_RETRY_ALLOWANCE,
    messageTimeout: MESSAGE_TIMEOUT_MS,
    checkPointAfter: 1_000,
    checkPointLowerBound: 1,
  });
}

/** `$persistentsubscription-$all::<group>-parked`: links to the parked events, the reason in their metadata. */
function parkedStreamOf(serverGroup: string): string {
  return `$persistentsubscription-$all::${serverGroup}-parked`;
}

/** The stream whose metadata keeps a group's settled mark (GroupRecovery); it holds no events. */
function markStreamOf(serverGroup: string): string {
  return `consumergroup-${serverGroup}`;
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** A replay was asked while nobody is subscribed: the server would hold the parked events only in memory. */
export class NoSubscriberError extends ApplicationError {
  constructor(group: string) {
    super(
      'conflict',
      'NO_SUBSCRIBER',
      `consumer group ${group} has no subscriber: the server removes parked events from the parked stream as it reads them for a replay, so they would be lost if it restarted before delivering them; replay once the group runs`,
    );
  }
}

/**
 * The consumer groups on EventStoreDB: persistent subscriptions to `$all` (EsdbGroupSubscription), their
 * parked streams and their server-side checkpoints. Made by EsdbEventStore on its client, which it stops
 * before disposing of that client.
 */
export class EsdbConsumerGroups extends ConsumerGroups {
  private readonly subscriptions = new Set<EsdbGroupSubscription>();
  private readonly connector: GroupConnector;
  /** The server name of each group subscribed to here (the port's name → name on the server). */
  private readonly serverNames = new Map<string, string>();
  /** The gRPC call under each connection, to end it gracefully (onPipedCall). */
  private readonly calls = new WeakMap<GroupConnection, GrpcDuplexCall>();
  /** The last checkpoint seen while a group was drained (exact then), by server name. */
  private readonly lastDrained = new Map<string, bigint>();
  private readonly strategy: ConsumerStrategy;
  private closed = false;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly options: EsdbConsumerGroupOptions,
    private readonly wiring: EsdbConsumerGroupWiring,
  ) {
    super();
    this.strategy = options.consumerStrategy ?? 'RoundRobin';
    this.connector = {
      ensureGroup: (settings) => this.ensureGroup(settings),
      connect: (group, bufferSize) => this.connect(group, bufferSize),
      close: (connection) => this.closeConnection(connection),
      positionOf: (streamId, revision) => this.positionOf(streamId, revision),
      progress: (group) => this.progress(group),
      settledMark: (group) => this.settledMark(group),
      raiseSettledMark: (group, mark) => this.raiseSettledMark(group, mark),
      readMatching: (after, types, limit) => this.wiring.readMatching(after, types, limit),
    };
  }

  /**
   * See esdb-settlement.ts for the mapping of outcomes onto ack/nack. The group is created on first use under
   * its server name (serverGroupName), so that other settings make another group.
   */
  subscribeToGroup(settings: ConsumerGroupSettings, handler: DeliveryHandler): GroupSubscription {
    // A disposed client would make the subscription resubscribe forever.
    if (this.closed) throw new EventStoreUnavailableError('the event store is closed');
    assertValidSettings(settings);
    this.serverNames.set(settings.group, serverGroupName(settings, this.strategy));
    const subscription = new EsdbGroupSubscription(this.connector, settings, handler, {
      ...(this.options.retryBackoff ? { retryBackoff: this.options.retryBackoff } : {}),
      ...(this.options.reconnectBackoff ? { reconnectBackoff: this.options.reconnectBackoff } : {}),
      ...(this.options.settledPollMs ? { settledPollMs: this.options.settledPollMs } : {}),
      onError:
        this.options.onGroupError ??
        ((group, error) =>
          process.emitWarning(
            `consumer group ${group}: ${error instanceof Error ? error.message : String(error)}`,
            'ConsumerGroupWarning',
          )),
    });
    this.subscriptions.add(subscription);
    subscription.start();
    return {
      stop: async () => {
        await subscription.stop();
        this.subscriptions.delete(subscription);
      },
    };
  }

  /**
   * Reads the group's parked stream: links to the parked events, resolved to the events themselves, each with
   * `{ Added, Reason, SubscriptionEventNumber }` metadata written by the server. The retry count comes from
   * the last line of the reason (see esdb-settlement.ts); a link whose event is gone (scavenged) is
   * skipped. Needs a user allowed to read system streams (admins; any user in insecure mode).
   */
  async listParked(group: string, options: { limit?: number } = {}): Promise<ParkedEvent[]> {
    const serverGroup = await this.serverNameOf(group);
    if (serverGroup === null) return [];
    const out: ParkedEvent[] = [];
    for (const { resolved, position } of await this.readParked(serverGroup, options.limit)) {
      const event = resolved.event;
      if (!event || position === null) continue;
      const link = resolved.link;
      const metadata = link?.metadata;
      const recorded = metadataField(metadata, 'reason');
      const { reason, retryCount } = parseParkedReason(typeof recorded === 'string' ? recorded : '');
      const added = metadataField(metadata, 'added');
      const parkedAt = typeof added === 'string' && !Number.isNaN(Date.parse(added)) ? new Date(added) : null;
      out.push({
        event: recordedEventAt(event, position),
        reason,
        retryCount,
        parkedAt: parkedAt ?? link?.created ?? event.created,
      });
    }
    return out;
  }

  /**
   * Replays the oldest `limit` parked events (all without a limit) and answers how many the server took. The
   * server's `stopAt` is an event number of the parked stream (exclusive), not a count: one past the last link
   * read here. The server takes parked events by truncating the parked stream (`$tb`) once it has read them —
   * not once they are acknowledged — and silently ignores a replay asked while another one runs; so the answer
   * is what the truncation shows, waited for up to the deadline, and a replay is refused while the group has
   * no subscriber (the events would live only in the server's memory).
   */
  async replayParked(group: string, options: { limit?: number } = {}): Promise<number> {
    if (options.limit !== undefined && options.limit <= 0) return 0;
    const serverGroup = await this.serverNameOf(group);
    if (serverGroup === null) return 0;
    const parked = await this.readParked(serverGroup, options.limit);
    const revisions = parked.flatMap(({ resolved }) => (resolved.link ? [resolved.link.revision] : []));
    const last = revisions[revisions.length - 1];
    if (last === undefined) return 0;
    const progress = await this.progress(serverGroup);
    if (progress === null) return 0;
    if (progress.subscribers === 0) throw new NoSubscriberError(group);
    const before = await this.truncatedBefore(serverGroup);
    try {
      await this.client.replayParkedMessagesToAll(
        serverGroup,
        options.limit === undefined ? {} : { stopAt: last + 1n },
      );
    } catch (error) {
      if (isCommandErrorOf(error, ErrorType.PERSISTENT_SUBSCRIPTION_DOES_NOT_EXIST)) return 0;
      throw toPortError(error, parkedStreamOf(serverGroup));
    }
    const after = await this.truncation(serverGroup, last + 1n);
    return revisions.filter((revision) => revision >= before && revision < after).length;
  }

  /**
   * Parked count as the server reports it, and a checkpoint that never overstates: the server's own only
   * while nothing is buffered, retried or in flight (then it is exact), else the last one seen so, or the
   * group's settled mark (see GroupRecovery).
   */
  async groupInfo(group: string): Promise<ConsumerGroupInfo> {
    const serverGroup = await this.serverNameOf(group);
    const info = serverGroup === null ? null : await this.info(serverGroup);
    if (serverGroup === null || info === null)
      return { group, checkpoint: null, parkedCount: 0, owner: null };
    const progress = progressOf(info);
    let checkpoint: bigint | null;
    if (progress.drained && progress.checkpoint !== null) {
      checkpoint = progress.checkpoint;
      this.lastDrained.set(serverGroup, checkpoint);
    } else {
      const mark = await this.settledMark(serverGroup);
      checkpoint = this.lastDrained.get(serverGroup) ?? (mark !== null && mark >= 0n ? mark : null);
      if (checkpoint !== null && progress.checkpoint !== null && checkpoint > progress.checkpoint) {
        checkpoint = progress.checkpoint;
      }
    }
    // Competing consumers: the server hands events to subscribers on every instance, none owns the group.
    return { group, checkpoint, parkedCount: Number(info.stats.parkedMessageCount), owner: null };
  }

  /** Stops every group subscription (each settles its batch in flight); the client stays the store's. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.subscriptions.clear();
  }

  private async ensureGroup(settings: ConsumerGroupSettings): Promise<string> {
    await this.wiring.serverCheck();
    const serverGroup = serverGroupName(settings, this.strategy);
    try {
      await this.client.createPersistentSubscriptionToAll(
        serverGroup,
        groupSettings(settings, this.strategy),
        { filter: eventTypeFilter({ regex: eventTypeRegex(settings.eventTypes) }) },
      );
    } catch (error) {
      if (isCommandErrorOf(error, ErrorType.PERSISTENT_SUBSCRIPTION_EXISTS)) return serverGroup;
      throw toPortError(error, serverGroup);
    }
    // A new group has delivered nothing: settled up to "before the first event".
    await this.raiseSettledMark(serverGroup, -1n).catch((error: unknown) =>
      this.options.onGroupError?.(settings.group, error),
    );
    return serverGroup;
  }

  private connect(serverGroup: string, bufferSize: number): GroupConnection {
    const subscription = this.client.subscribeToPersistentSubscriptionToAll(serverGroup, { bufferSize });
    onPipedCall(subscription, (call) => this.calls.set(subscription, call));
    return subscription;
  }

  /**
   * Ends a connection we stop using so that its last acks arrive before the cancel. The client writes an ack
   * and cancels the call a tick later; the cancel (an HTTP/2 RST_STREAM) can overtake acks still queued in
   * the transport, and the server then delivers acknowledged events again, one retry count up. Half-closing
   * first sends everything written before it, in order; the client says nothing about when it has left the
   * process, so a short grace follows before the cancel (which the server needs to drop the subscriber).
   */
  private async closeConnection(connection: GroupConnection): Promise<void> {
    const call = this.calls.get(connection);
    if (call && !call.writableFinished && !call.destroyed) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          call.removeListener('finish', done);
          call.removeListener('close', done);
          resolve();
        };
        const timer = setTimeout(done, this.wiring.deadlineMs);
        call.once('finish', done);
        call.once('close', done);
        call.end();
      });
      await sleep(FLUSH_GRACE_MS);
    }
    await connection.unsubscribe();
  }

  /** The group's name on the server: the one subscribed to here, else the one found on the server. */
  private async serverNameOf(group: string): Promise<string | null> {
    const known = this.serverNames.get(group);
    if (known !== undefined) return known;
    let groups: PersistentSubscriptionToAllInfo[];
    try {
      groups = await this.client.listPersistentSubscriptionsToAll();
    } catch (error) {
      if (isCommandErrorOf(error, ErrorType.PERSISTENT_SUBSCRIPTION_DOES_NOT_EXIST, ErrorType.NOT_FOUND))
        return null;
      throw toPortError(error, group);
    }
    // Several only between two deploys with other settings: the one with subscribers is the live one.
    const pattern = new RegExp(`^${escapeRegex(group)}--[0-9a-f]{10}$`);
    const [found] = groups
      .filter((info) => pattern.test(info.groupName))
      .sort((a, b) => b.connections.length - a.connections.length);
    return found?.groupName ?? null;
  }

  private async info(serverGroup: string): Promise<PersistentSubscriptionToAllInfo | null> {
    try {
      return await this.client.getPersistentSubscriptionToAllInfo(serverGroup);
    } catch (error) {
      if (isCommandErrorOf(error, ErrorType.PERSISTENT_SUBSCRIPTION_DOES_NOT_EXIST, ErrorType.NOT_FOUND))
        return null;
      throw toPortError(error, serverGroup);
    }
  }

  private async progress(serverGroup: string): Promise<GroupProgress | null> {
    const info = await this.info(serverGroup);
    return info === null ? null : progressOf(info);
  }

  private async settledMark(serverGroup: string): Promise<bigint | null> {
    const { raw } = await readRawMetadata(this.client, markStreamOf(serverGroup), this.deadline('a mark'));
    return markOf(raw);
  }

  /** Moves the mark forward (never back), whoever else moves it too (a write guarded by its revision). */
  private async raiseSettledMark(serverGroup: string, position: bigint): Promise<void> {
    await updateRawMetadata(
      this.client,
      markStreamOf(serverGroup),
      (raw) => {
        const current = markOf(raw);
        if (current !== null && current >= position) return null;
        return { ...raw, settledUpTo: String(position) };
      },
      this.deadline('a mark'),
    );
  }

  /** The first revision still in the parked stream (its truncation, `$tb`; 0 when never truncated). */
  private async truncatedBefore(serverGroup: string): Promise<bigint> {
    const { raw } = await readRawMetadata(
      this.client,
      parkedStreamOf(serverGroup),
      this.deadline('the parked stream metadata'),
    );
    return typeof raw.$tb === 'number' ? BigInt(raw.$tb) : 0n;
  }

  /** Waits (up to the deadline) until the parked stream is truncated up to `target`; answers how far it got. */
  private async truncation(serverGroup: string, target: bigint): Promise<bigint> {
    const until = Date.now() + this.wiring.deadlineMs;
    for (;;) {
      const truncated = await this.truncatedBefore(serverGroup);
      if (truncated >= target || Date.now() >= until) return truncated;
      await sleep(25);
    }
  }

  /** The parked stream's oldest links, resolved; a missing stream (nothing ever parked) reads as empty. */
  private async readParked(
    serverGroup: string,
    limit?: number,
  ): Promise<{ resolved: ResolvedEvent; position: bigint | null }[]> {
    const links: ResolvedEvent[] = [];
    const stream = parkedStreamOf(serverGroup);
    try {
      await drain(
        this.client.readStream(stream, {
          direction: FORWARDS,
          fromRevision: START,
          resolveLinkTos: true,
          ...(limit !== undefined ? { maxCount: limit } : {}),
        }),
        (resolved) => {
          links.push(resolved);
        },
        this.deadline(`a read of ${stream}`),
      );
    } catch (error) {
      if (isCommandErrorOf(error, ErrorType.STREAM_NOT_FOUND)) return [];
      throw toPortError(error, stream);
    }
    const out: { resolved: ResolvedEvent; position: bigint | null }[] = [];
    for (const resolved of links) {
      const event = resolved.event;
      // A stream read gives the resolved event its own position (server 22.6+); else look it up.
      const position = event
        ? (positionOf(event, {}) ?? (await this.positionOf(event.streamId, event.revision)))
        : null;
      out.push({ resolved, position });
    }
    return out;
  }

  private async positionOf(streamId: string, revision: bigint): Promise<bigint | null> {
    let position: bigint | null = null;
    try {
      await drain(
        this.client.readStream(streamId, { fromRevision: revision, maxCount: 1 }),
        (resolved) => {
          position = resolved.event ? positionOf(resolved.event, resolved) : null;
        },
        this.deadline(`a read of ${streamId}`),
      );
    } catch (error) {
      if (isCommandErrorOf(error, ErrorType.STREAM_NOT_FOUND)) return null;
      throw toPortError(error, streamId);
    }
    return position;
  }

  private deadline(what: string): Deadline {
    return { ms: this.wiring.deadlineMs, what };
  }
}

function progressOf(info: PersistentSubscriptionToAllInfo): GroupProgress {
  const { stats } = info;
  return {
    checkpoint: stats.lastCheckpointedEventPosition?.commit ?? null,
    drained:
      Number(stats.readBufferCount) === 0 &&
      Number(stats.retryBufferCount) === 0 &&
      Number(stats.totalInFlightMessages) === 0 &&
      Number(stats.outstandingMessagesCount) === 0,
    subscribers: info.connections.length,
  };
}

function markOf(raw: Record<string, unknown>): bigint | null {
  const { settledUpTo } = raw;
  return typeof settledUpTo === 'string' && /^-?\d+$/.test(settledUpTo) ? BigInt(settledUpTo) : null;
}

/** A field of the parked link's metadata, whatever the server's JSON casing (`Reason` or `reason`). */
function metadataField(metadata: unknown, name: string): unknown {
  if (metadata === null || typeof metadata !== 'object' || metadata instanceof Uint8Array) return undefined;
  const entry = Object.entries(metadata).find(([key]) => key.toLowerCase() === name);
  return entry?.[1];
}
