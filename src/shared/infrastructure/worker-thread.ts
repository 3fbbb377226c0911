/**
 * What the stores' worker threads share: where a worker's module is, and how an error crosses the boundary.
 */

/** An error as it crosses a thread boundary: what callers and the logs look at. */
export interface CrossedError {
  readonly name: string;
  readonly message: string;
  /** SQLite's code (SQLITE_FULL, SQLITE_BUSY…) or Node's, when there is one. */
  readonly code?: string;
}

export function crossedError(error: unknown): CrossedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const { code } = error as { code?: unknown };
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}

/** The error again, on the receiving side: same name, message and code. */
export function rebuiltError({ name, message, code }: CrossedError): Error {
  const error = new Error(message);
  error.name = name;
  if (code !== undefined) Object.assign(error, { code });
  return error;
}

/**
 * The URL of a worker module beside the caller (`importMetaUrl`: the caller's `import.meta.url`). Under the
 * test runner the caller is TypeScript source, which a worker thread cannot load: the build's module is used
 * instead (`npm test` builds first).
 */
export function workerModule(relative: string, importMetaUrl: string): URL {
  const entry = new URL(relative, importMetaUrl);
  if (!importMetaUrl.endsWith('.ts')) return entry;
  return new URL(entry.href.replace(/\/src\/(?!.*\/src\/)/, '/dist/'));
}
