import type pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';

type Listener = (payload: string) => void;

const RECONNECT_BASE_MS = 100;
const RECONNECT_MAX_MS = 5_000;

/**
 * LISTEN on a connection of its own (a pooled connection cannot keep listening), for the schema's channels:
 * appends notify the events channel at commit, lease releases and parked-event replays the groups channel.
 * The connection is opened with the first listener and reopened with backoff when it drops; every (re)connect
 * is reported to `onConnected` listeners, because notifications sent while it was down are lost — consumers
 * then look again (and poll anyway, as a fallback).
 */
export class PostgresNotifier {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly connectedListeners = new Set<() => void>();
  private started = false;
  private readonly stopped = new AbortController();
  private closed = false;
  private running: Promise<void> = Promise.resolve();
  private stopCurrent: (() => void) | null = null;

  constructor(
    private readonly newClient: () => pg.Client,
    private readonly channels: readonly string[],
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Calls `listener` with each notification's payload on `channel`; answers how to stop. */
  on(channel: string, listener: Listener): () => void {
    if (!this.channels.includes(channel)) throw new Error(`not listening on channel ${channel}`);
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    this.start();
    return () => set.delete(listener);
  }

  /** Called after every (re)connection: notifications may have been missed meanwhile. */
  onConnected(listener: () => void): () => void {
    this.connectedListeners.add(listener);
    this.start();
    return () => this.connectedListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopped.abort();
    this.stopCurrent?.();
    await this.running;
  }

  private start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.running = this.run();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const client = this.newClient();
      const ended = new Promise<void>((resolve) => {
        this.stopCurrent = resolve;
        client.on('error', (error) => {
          this.onError(error);
          resolve();
        });
        client.on('end', () => resolve());
      });
      client.on('notification', (message) => {
        const payload = message.payload ?? '';
        for (const listener of this.listeners.get(message.channel) ?? []) listener(payload);
      });
      try {
        await client.connect();
        for (const channel of this.channels) await client.query(`LISTEN "${channel}"`);
        failures = 0;
        for (const listener of this.connectedListeners) listener();
        await ended;
      } catch (error) {
        if (!this.closed) this.onError(error);
      } finally {
        this.stopCurrent = null;
        await client.end().catch(() => undefined);
      }
      if (this.closed) break;
      failures += 1;
      const backoff = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** Math.min(failures - 1, 10));
      await sleep(backoff, undefined, { signal: this.stopped.signal, ref: false }).catch(() => undefined);
    }
  }
}
