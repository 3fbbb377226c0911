import type { EventStoreDBClient } from '@eventstore/db-client';
import { withDeadline, type Deadline } from './esdb-reads.js';

/** How a consumer group's events are spread over its subscribers (EventStoreDB's consumer strategies). */
export type ConsumerStrategy = 'RoundRobin' | 'Pinned';

/** Oldest server the adapter works with: catch-up subscriptions say `caughtUp` since 23.10. */
export const MINIMUM_SERVER = [23, 10, 0] as const;
/**
 * Oldest server a Pinned group is safe on: before 24.10.14 Pinned wrote wrong checkpoints when it skipped a
 * busy subscriber (KurrentDB #5497, fixed by #5615), which loses events after a restart.
 */
export const MINIMUM_PINNED_SERVER = [24, 10, 14] as const;

export interface ServerCheck {
  /** As the server reports it ("24.10.14"), or `unknown`. */
  readonly version: string;
  /** False when the server did not say (a development build says 0.0.0): nothing could be checked. */
  readonly known: boolean;
}

/** The server is one this adapter refuses to work with; the message says why and what to run instead. */
export class UnsupportedServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedServerError';
  }
}

/**
 * The server's version, from the "server features" call the client makes before its first append anyway.
 * Client 6.2.1 keeps it behind a protected getter (`capabilities`); it is read here rather than through a
 * request of our own so that exactly what the client saw is checked.
 */
export async function serverVersionOf(client: EventStoreDBClient, deadline: Deadline): Promise<string> {
  const features = (client as unknown as { capabilities: Promise<{ serverVersion: string }> }).capabilities;
  return (await withDeadline(features, deadline)).serverVersion;
}

/** `major.minor.patch` of a version string, or null when it says nothing (unknown, 0.0.0). */
export function parseVersion(version: string): [number, number, number] | null {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!match) return null;
  const parsed: [number, number, number] = [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
  return parsed.every((part) => part === 0) ? null : parsed;
}

function atLeast(version: readonly number[], minimum: readonly number[]): boolean {
  for (let i = 0; i < minimum.length; i++) {
    const part = version[i] ?? 0;
    const wanted = minimum[i] ?? 0;
    if (part !== wanted) return part > wanted;
  }
  return true;
}

/** Refuses a server the adapter cannot work with, or a Pinned group on a server that loses events with it. */
export function checkServer(version: string, strategy: ConsumerStrategy): ServerCheck {
  const parsed = parseVersion(version);
  if (parsed === null) {
    if (strategy === 'Pinned') {
      throw new UnsupportedServerError(
        `EventStoreDB reports no version ("${version}"): Pinned consumer groups need 24.10.14 or newer, which cannot be checked; use RoundRobin or a released server`,
      );
    }
    return { version, known: false };
  }
  if (!atLeast(parsed, MINIMUM_SERVER)) {
    throw new UnsupportedServerError(
      `EventStoreDB ${version} is too old: this service needs 23.10 or newer (24.10 is tested)`,
    );
  }
  if (strategy === 'Pinned' && !atLeast(parsed, MINIMUM_PINNED_SERVER)) {
    throw new UnsupportedServerError(
      `EventStoreDB ${version} loses events with Pinned consumer groups (wrong checkpoints when a busy subscriber is skipped, KurrentDB #5497, fixed in 24.10.14): upgrade to 24.10.14 or newer, or use RoundRobin`,
    );
  }
  return { version, known: true };
}
