/**
 * The operator CLI's HTTP client: the admin API of a running service, with its failures sorted into what
 * the CLI's exit codes say — the service answered with an error (ServiceError, exit 1) or could not be
 * reached at all (UnreachableError, exit 3).
 */

/** RFC 9457 problem details as the service answers them (`code` is stable). */
export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status?: number;
  readonly detail?: string;
  readonly code?: string;
  readonly errors?: readonly { field: string; message: string }[];
  readonly [extension: string]: unknown;
}

/** The service answered, with an error status. */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
    readonly method: string,
    readonly url: string,
  ) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.name = 'ServiceError';
  }
}

/** No answer: refused, unknown host, reset, or nothing within the timeout. */
export class UnreachableError extends Error {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`cannot reach the service at ${url}: ${reason}`);
    this.name = 'UnreachableError';
  }
}

export interface Answer<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export class OpsClient {
  private readonly base: string;

  /**
   * @param baseUrl the service, e.g. `http://localhost:3000` (a path prefix, e.g. behind a proxy, is kept)
   * @param token a bearer token (with or without the `Bearer ` prefix); none: requests go without one
   */
  constructor(
    private readonly baseUrl: URL,
    private readonly token: string | undefined,
    private readonly timeoutMs = 15_000,
  ) {
    this.base = `${baseUrl.origin}${baseUrl.pathname.replace(/\/+$/, '')}`;
  }

  /** Whether requests carry a bearer token. */
  get hasToken(): boolean {
    return this.token !== undefined;
  }

  /** The same service, with another bearer token. */
  withToken(token: string): OpsClient {
    return new OpsClient(this.baseUrl, token, this.timeoutMs);
  }

  /** `/admin/jobs/…` (a path the service gave, e.g. in `Location`) → an absolute URL under the base. */
  url(path: string): string {
    if (/^https?:\/\//i.test(path)) return path;
    return `${this.base}${path.startsWith('/') ? '' : '/'}${path}`;
  }

  get<T>(path: string): Promise<Answer<T>> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body?: object): Promise<Answer<T>> {
    return this.request<T>('POST', path, body);
  }

  delete<T>(path: string): Promise<Answer<T>> {
    return this.request<T>('DELETE', path);
  }

  /** `body`: an object sent as JSON, or a string sent as it is (a signed webhook's exact bytes). */
  async request<T>(
    method: string,
    path: string,
    body?: object | string,
    extraHeaders: Readonly<Record<string, string>> = {},
  ): Promise<Answer<T>> {
    const url = this.url(path);
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      ...extraHeaders,
    };
    if (this.token)
      headers.authorization = /^bearer /i.test(this.token) ? this.token : `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new UnreachableError(this.base, reasonOf(error, this.timeoutMs));
    }
    const parsed = parseJson(text, response.headers.get('content-type'));
    if (!response.ok) {
      const problem = isObject(parsed) ? (parsed as Problem) : null;
      throw new ServiceError(response.status, problem, method, url);
    }
    return { status: response.status, headers: response.headers, body: parsed as T };
  }
}

function parseJson(text: string, contentType: string | null): unknown {
  if (text.length === 0) return null;
  if (contentType === null || !/json/i.test(contentType)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `ECONNREFUSED`, `ENOTFOUND`, `no answer within 15 s`, … (undici hides the code in `cause`). */
function reasonOf(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs / 1000} s`;
  }
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    if (current.cause === undefined) return current.message;
    current = current.cause;
  }
  return current instanceof Error ? current.message : String(current);
}
