import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';

export interface GroupLeasesOptions {
  /** This instance's INSTANCE_ID: the owner written on its leases. */
  readonly instanceId: string;
  /** How long a lease lasts unless renewed (renewed every third of it). */
  readonly leaseMs: number;
  /** Where a released lease is announced (the schema's groups channel). */
  readonly channel: string;
  readonly onError: (error: unknown) => void;
}

interface HeldLease {
  /** This process's clock: the lease is surely ours until then (the renewal's send time + the lease). */
  validUntil: number;
  /** When it was acquired (server time, epoch ms): above the fair share, the newest are handed over first. */
  acquiredAt: number;
  /** To be handed over: its loop stops delivering (its batch in flight settled), then it is released. */
  yielding: boolean;
}

interface LeaseRow {
  readonly grp: string;
  readonly owner: string | null;
  /** Milliseconds until it expires (negative: expired, or released, that long ago). */
  readonly ms: number;
}

/**
 * One statement per tick: this instance's heartbeat row (with the groups it subscribes to), and the renewal
 * of every lease it holds — both until the same instant, so that an instance's leases and its heartbeat
 * expire together when it dies. The row belongs to one process at a time (its `incarnation`): another
 * process with the same INSTANCE_ID is refused while that row is alive. Rows dead for an hour are removed.
 */
const HEARTBEAT = `
  WITH me AS (
    INSERT INTO consumer_instances AS i (instance_id, incarnation, groups, started_at, heartbeat_at, expires_at)
    VALUES ($1, $2, $3::text[], statement_timestamp(), statement_timestamp(),
            statement_timestamp() + $4 * interval '1 millisecond')
    ON CONFLICT (instance_id) DO UPDATE SET
      groups = excluded.groups, heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at,
      started_at = CASE WHEN i.incarnation = excluded.incarnation THEN i.started_at ELSE excluded.started_at END,
      incarnation = excluded.incarnation
    WHERE i.incarnation = excluded.incarnation OR i.expires_at <= statement_timestamp()
    RETURNING 1
  ), renewed AS (
    UPDATE consumer_leases SET expires_at = statement_timestamp() + $4 * interval '1 millisecond'
    WHERE owner = $1 AND grp = ANY($5::text[]) AND EXISTS (SELECT 1 FROM me)
    RETURNING grp
  ), gone AS (
    DELETE FROM consumer_instances
    WHERE expires_at < statement_timestamp() - interval '1 hour' AND instance_id <> $1
  )
  SELECT EXISTS (SELECT 1 FROM me) AS registered, ARRAY(SELECT grp FROM renewed) AS renewed`;

/** Live instances, the groups they subscribe to between them, and the leases of this instance's groups. */
const STATE = `
  SELECT
    (SELECT count(*) FROM consumer_instances WHERE expires_at > clock_timestamp())::int AS live,
    (SELECT count(DISTINCT g) FROM consumer_instances AS i, unnest(i.groups) AS g
      WHERE i.expires_at > clock_timestamp())::int AS groups,
    (SELECT coalesce(json_agg(json_build_object(
        'grp', grp, 'owner', owner,
        'ms', (extract(epoch FROM expires_at - clock_timestamp()) * 1000)::float8)), '[]')
      FROM consumer_leases WHERE grp = ANY($1::text[])) AS leases`;

/** Takes the lease if nobody holds it, it expired, or it is ours already. */
const ACQUIRE = `
  INSERT INTO consumer_leases AS l (grp, owner, expires_at, acquired_at)
  VALUES ($1, $2, statement_timestamp() + $3 * interval '1 millisecond', statement_timestamp())
  ON CONFLICT (grp) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
    acquired_at = CASE WHEN l.owner = excluded.owner THEN l.acquired_at ELSE excluded.acquired_at END
  WHERE l.owner = excluded.owner OR l.owner IS NULL OR l.expires_at <= statement_timestamp()
  RETURNING (extract(epoch FROM acquired_at) * 1000)::float8 AS acquired_at`;

const RENEW = `
  UPDATE consumer_leases SET expires_at = statement_timestamp() + $3 * interval '1 millisecond'
  WHERE grp = $1 AND owner = $2`;

const RELEASE = `
  WITH released AS (
    UPDATE consumer_leases SET owner = NULL, expires_at = statement_timestamp()
    WHERE grp = $1 AND owner = $2 RETURNING grp
  )
  SELECT pg_notify($3, 'lease:' || grp) FROM released`;

const DEREGISTER = 'DELETE FROM consumer_instances WHERE instance_id = $1 AND incarnation = $2';

/**
 * The consumer-group leases of one instance, and how the groups spread over the live instances.
 *
 * A group is delivered by one instance at a time: the holder of its row in `consumer_leases` (group, owner,
 * expires_at). The holder renews its leases every third of PROJECTION_LEASE_MS; an instance that stops
 * renewing (killed, cut off, frozen) loses them when they expire, and another instance takes them over then
 * and resumes from the group's checkpoint. Expiry is judged by the database's clock, never by ours.
 *
 * Spreading, on every tick (a third of the lease, and at once when an instance joins, leaves or releases a
 * lease):
 * 1. Heartbeat: this instance's row in `consumer_instances` says it is alive until now + lease and which
 *    groups it subscribes to; the same statement renews its leases until the same instant. A lease it held
 *    but could not renew was taken over: its loop stops.
 * 2. Fair share: with N live instances (unexpired heartbeat rows) subscribing to G distinct groups between
 *    them, no instance holds more than ceil(G / N).
 * 3. Above its share, an instance hands leases over — the most recently acquired first, so that long-held
 *    groups stay put: the group's loop stops delivering after its batch in flight has settled, then the lease
 *    is released (owner NULL) and announced on the groups channel, which makes the others tick at once.
 * 4. Below its share, it takes free leases (none yet, released, or expired) of the groups it subscribes to,
 *    in name order; a taken lease is a conditional upsert, so of two instances racing for it exactly one wins.
 * 5. A free lease nobody took for a whole lease period (every instance with room subscribes to other groups)
 *    is taken even above the share: a group is never left without an owner.
 * 6. It sleeps until the next tick, or until the earliest expiry of another instance's lease on one of its
 *    groups: a dead owner's groups are taken over as soon as their leases run out (its heartbeat runs out at
 *    the same instant, so the others' shares already count it gone).
 *
 * So a single instance holds every group; a second one that starts takes half of them within a tick or two;
 * when one of three dies, the two left take its groups over when its leases expire.
 *
 * Before each batch the group's loop asks `confirm`: a lease whose renewal is overdue (this process was
 * paused, or the database was slow) is renewed first, and a lease that another instance took in the meantime
 * stops delivery before the batch. Settling a batch checks the lease in the same statement, so a holder that
 * lost its lease while a batch was in flight does not settle it: the new owner delivers those events again.
 * Two owners never start a batch on one lease; one paused in the middle of a batch may still be writing when
 * the next owner starts — which projections tolerate: they are idempotent and conditional on revisions.
 */
export class GroupLeases {
  private readonly incarnation = randomUUID();
  /** Groups this instance subscribes to, each with its loop's wake-up. */
  private readonly wanted = new Map<string, () => void>();
  private readonly held = new Map<string, HeldLease>();
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private tickQueued = false;
  private registered = false;
  private duplicateReported = false;
  private closed = false;
  private readonly renewEveryMs: number;

  constructor(
    private readonly pool: Pool,
    private readonly options: GroupLeasesOptions,
  ) {
    this.renewEveryMs = Math.max(50, Math.floor(options.leaseMs / 3));
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  /** The group's loop in this instance starts: take part in the group's lease. */
  join(group: string, wake: () => void): void {
    this.wanted.set(group, wake);
    this.schedule(0);
  }

  /** The group's loop in this instance ended (its last batch settled): release the lease if it is ours. */
  leave(group: string): Promise<void> {
    this.wanted.delete(group);
    return this.enqueue(async () => {
      if (this.wanted.has(group)) return; // a new loop joined meanwhile: it keeps the lease
      await this.release(group);
      if (this.wanted.size === 0 && this.held.size === 0) await this.deregister();
    });
  }

  /** Another instance released a lease, or the notifications reconnected: look again now. */
  nudge(): void {
    if (this.wanted.size > 0) this.schedule(0);
  }

  /** Whether this instance may deliver the group (it holds the lease, is not handing it over, and it is valid). */
  owns(group: string): boolean {
    const lease = this.held.get(group);
    return this.registered && lease !== undefined && !lease.yielding && Date.now() < lease.validUntil;
  }

  /**
   * Before a batch: true when this instance holds the lease with time to spare, renewing it first when its
   * renewal is overdue; false (and the lease is forgotten) when another instance took it.
   */
  async confirm(group: string): Promise<boolean> {
    const lease = this.held.get(group);
    if (!lease || lease.yielding || !this.registered) return false;
    if (lease.validUntil - Date.now() > this.renewEveryMs) return true;
    return this.enqueue(async () => {
      const current = this.held.get(group);
      if (!current || current.yielding) return false;
      const sentAt = Date.now();
      const renewed = await this.pool.query(RENEW, [group, this.options.instanceId, this.options.leaseMs]);
      if (renewed.rowCount === 0) {
        this.held.delete(group);
        return false;
      }
      current.validUntil = sentAt + this.options.leaseMs;
      return true;
    });
  }

  /** Settling found the lease in other hands: forget it (the loop stops) and look again soon. */
  lost(group: string): void {
    this.held.delete(group);
    this.schedule(0);
  }

  /** The group's loop stopped delivering (nothing in flight): a lease being handed over is released now. */
  stoppedDelivering(group: string): Promise<void> {
    if (!this.held.get(group)?.yielding) return Promise.resolve();
    return this.enqueue(() => this.release(group));
  }

  /** Releases every lease and the heartbeat row (the loops have stopped). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    await this.enqueue(async () => {
      for (const group of [...this.held.keys()]) await this.release(group);
      await this.deregister();
    }).catch(() => undefined);
  }

  private enqueue<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.queue.then(operation);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.tickQueued) return;
      this.tickQueued = true;
      void this.enqueue(async () => {
        this.tickQueued = false;
        return this.tick();
      }).then(
        (next) => {
          if (next !== null) this.schedule(next);
        },
        (error: unknown) => {
          this.options.onError(error);
          this.schedule(this.renewEveryMs);
        },
      );
    }, delayMs);
    this.timer.unref();
  }

  /** One round of the algorithm above; answers when to run the next one (null: nothing to do until asked). */
  private async tick(): Promise<number | null> {
    if (this.closed) return null;
    const { instanceId, leaseMs } = this.options;
    if (this.wanted.size === 0 && this.held.size === 0) {
      await this.deregister();
      return null;
    }
    const groups = [...this.wanted.keys()].sort();
    const sentAt = Date.now();
    const beat = await this.pool.query<{ registered: boolean; renewed: string[] }>(HEARTBEAT, [
      instanceId,
      this.incarnation,
      groups,
      leaseMs,
      [...this.held.keys()],
    ]);
    const { registered, renewed } = beat.rows[0] ?? { registered: false, renewed: [] };
    this.registered = registered;
    if (!registered) {
      if (!this.duplicateReported) {
        this.duplicateReported = true;
        this.options.onError(
          new Error(
            `INSTANCE_ID ${instanceId} is in use by another live process (its heartbeat is younger than the lease); ` +
              'this one delivers no consumer group until that heartbeat expires — give every instance an INSTANCE_ID of its own',
          ),
        );
      }
      for (const group of [...this.held.keys()]) this.forget(group);
      return this.renewEveryMs;
    }
    this.duplicateReported = false;
    const stillOurs = new Set(renewed);
    for (const [group, lease] of this.held) {
      if (stillOurs.has(group)) lease.validUntil = sentAt + leaseMs;
      else this.forget(group);
    }

    const state = await this.pool.query<{ live: number; groups: number; leases: LeaseRow[] }>(STATE, [
      groups,
    ]);
    const { live, groups: total, leases } = state.rows[0] ?? { live: 1, groups: groups.length, leases: [] };
    const share = Math.ceil(Math.max(1, total) / Math.max(1, live));

    const keeping = [...this.held].filter(([, lease]) => !lease.yielding);
    keeping.sort(([, a], [, b]) => a.acquiredAt - b.acquiredAt);
    for (const [group, lease] of keeping.slice(share)) {
      lease.yielding = true;
      this.wanted.get(group)?.();
    }
    let mine = Math.min(keeping.length, share);

    const rows = new Map(leases.map((row) => [row.grp, row]));
    let next = this.renewEveryMs;
    for (const group of groups) {
      if (this.held.has(group)) continue;
      const row = rows.get(group);
      const free = !row || row.owner === null || row.owner === instanceId || row.ms <= 0;
      if (!free) {
        // Wake up when it expires: a dead owner's group is taken over then, not a tick later.
        next = Math.min(next, Math.max(0, row.ms) + 10);
        continue;
      }
      const unowned = row !== undefined && row.owner !== instanceId && row.ms <= -leaseMs;
      if (mine >= share && !unowned) continue;
      if (await this.acquire(group)) mine += 1;
    }
    return next;
  }

  private async acquire(group: string): Promise<boolean> {
    const sentAt = Date.now();
    const { rows } = await this.pool.query<{ acquired_at: number }>(ACQUIRE, [
      group,
      this.options.instanceId,
      this.options.leaseMs,
    ]);
    const acquired = rows[0];
    if (!acquired) return false;
    this.held.set(group, {
      validUntil: sentAt + this.options.leaseMs,
      acquiredAt: acquired.acquired_at,
      yielding: false,
    });
    this.wanted.get(group)?.();
    return true;
  }

  private async release(group: string): Promise<void> {
    if (!this.held.has(group)) return;
    this.held.delete(group);
    await this.pool.query(RELEASE, [group, this.options.instanceId, this.options.channel]);
  }

  /** The lease is gone (taken over, or this instance is refused): its loop stops delivering. */
  private forget(group: string): void {
    this.held.delete(group);
    this.wanted.get(group)?.();
  }

  private async deregister(): Promise<void> {
    if (!this.registered) return;
    this.registered = false;
    await this.pool.query(DEREGISTER, [this.options.instanceId, this.incarnation]);
  }
}
