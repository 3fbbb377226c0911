import { problem, type ProblemDetails } from './problem.js';

/** An HTTP-edge failure that already knows its problem document (bad header, bad token, …). */
export class HttpProblem extends Error {
  constructor(readonly body: ProblemDetails) {
    super(body.detail ?? body.title);
    this.name = 'HttpProblem';
  }

  static badRequest(code: string, detail: string, extra: Record<string, unknown> = {}): HttpProblem {
    return new HttpProblem(problem(400, code, detail, extra));
  }
  static unauthorized(detail: string): HttpProblem {
    return new HttpProblem(problem(401, 'UNAUTHORIZED', detail));
  }
  static forbidden(detail: string): HttpProblem {
    return new HttpProblem(problem(403, 'FORBIDDEN', detail));
  }
  static notFound(detail: string): HttpProblem {
    return new HttpProblem(problem(404, 'NOT_FOUND', detail));
  }
}
