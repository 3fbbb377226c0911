/**
 * Port: runs work on behalf of a correlation id, so that every line it logs (and every line logged by what
 * it awaits) carries that id — for work that an event caused rather than a request (a process manager
 * reacting to an event of a request). Requests get their context from the HTTP logger.
 */
export abstract class LogContext {
  abstract run<T>(correlationId: string, work: () => T): T;
}

/** For code run without a logging adapter (unit tests, tools): runs the work as it is. */
export class NoLogContext extends LogContext {
  run<T>(_correlationId: string, work: () => T): T {
    return work();
  }
}
