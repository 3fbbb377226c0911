import type { FastifyReply } from 'fastify';
import type { MutationResult } from '../application/mutation-result.js';

/** JSON-safe revision (a stream never gets near 2^53 events). */
export function revisionJson(revision: bigint): number {
  return Number(revision);
}

export function etag(revision: bigint): string {
  return `"${revision}"`;
}

/** Every mutation answers `{id, revision, …extra}` with `ETag: "<revision>"`; replays say so in a header. */
export function mutationResponse<Extra extends object>(
  reply: FastifyReply,
  result: MutationResult,
  extra?: Extra,
): { id: string; revision: number } & Extra {
  void reply.header('etag', etag(result.revision));
  if (result.replayed) void reply.header('idempotent-replayed', 'true');
  return { id: result.id, revision: revisionJson(result.revision), ...(extra ?? ({} as Extra)) };
}
