/** What every mutation answers: the stream's id and its revision after the command (0-based). */
export interface MutationResult {
  readonly id: string;
  readonly revision: bigint;
  /** Global position of the last appended event; null when nothing was appended (idempotent replay). */
  readonly position: bigint | null;
  /** True when the request repeated an earlier one with the same Idempotency-Key. */
  readonly replayed: boolean;
}
