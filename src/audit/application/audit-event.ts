import type { JsonObject, RecordedEvent } from '../../event-store/event-store.port.js';

/**
 * One stored event as the audit endpoints show it: everything the store recorded, JSON-safe (revision and
 * position as numbers, `created` as UTC ISO-8601 with milliseconds), metadata verbatim (actor,
 * correlationId, causationId, idempotencyKey, occurredAt, schemaVersion, command, …).
 */
export interface AuditEvent {
  readonly position: number;
  readonly stream: string;
  readonly revision: number;
  readonly id: string;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: JsonObject;
  readonly created: string;
}

export function auditEvent(recorded: RecordedEvent): AuditEvent {
  return {
    position: Number(recorded.position),
    stream: recorded.streamId,
    revision: Number(recorded.revision),
    id: recorded.id,
    type: recorded.type,
    data: recorded.data,
    metadata: recorded.metadata,
    created: recorded.created.toISOString(),
  };
}
