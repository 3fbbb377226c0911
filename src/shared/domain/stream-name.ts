/**
 * Stream names: `<category>-<id>` for an aggregate's events (`cart-<uuid>`), `<category>snapshot-<id>` for
 * its snapshots — a category of their own, so that snapshots never land in `$ce-<category>` on
 * EventStoreDB (which splits at the first `-`) nor in a projection's category.
 */
export function streamName(category: string, id: string): string {
  return `${category}-${id}`;
}

export function snapshotStreamName(category: string, id: string): string {
  return `${category}snapshot-${id}`;
}

/** The id part of a stream of `category` (`cart-abc` → `abc`), or null for a stream of another category. */
export function idInCategory(category: string, streamId: string): string | null {
  return streamId.length > category.length + 1 &&
    streamId.startsWith(category) &&
    streamId.charCodeAt(category.length) === 45 /* - */
    ? streamId.slice(category.length + 1)
    : null;
}
