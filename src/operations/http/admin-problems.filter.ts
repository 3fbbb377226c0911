import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { JobNotCancellableError } from '../../read-side/runtime/jobs/job-runner.js';
import { JobConflictError } from '../../read-side/runtime/jobs/job-store.js';
import { HttpProblem } from '../../shared/http/http-errors.js';
import { problem } from '../../shared/http/problem.js';
import { sendProblem } from '../../shared/http/problem-details.filter.js';
import { NotAProjectionError } from '../application/projection-admin.errors.js';
import { jobLocation } from '../application/admin-views.js';

/**
 * The admin's own conflicts as problem details (everything else goes to the global filter):
 * - JobConflictError → 409 `JOB_RUNNING` with `jobId`, `jobKind`, `jobLocation` (a job of that projection runs);
 * - JobNotCancellableError → 409 `JOB_NOT_CANCELLABLE` with `jobId`, `state`, `phase`;
 * - NotAProjectionError → 409 `NOT_A_PROJECTION` (rebuild/verify of the process manager).
 */
@Catch(JobConflictError, JobNotCancellableError, NotAProjectionError)
export class AdminProblemsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Admin');

  catch(error: Error, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(
      http.getRequest<FastifyRequest>(),
      http.getResponse<FastifyReply>(),
      toHttp(error),
      this.logger,
    );
  }
}

function toHttp(error: Error): HttpProblem | Error {
  if (error instanceof JobConflictError) {
    const { running } = error;
    return new HttpProblem(
      problem(409, 'JOB_RUNNING', error.message, {
        jobId: running.id,
        jobKind: running.kind,
        jobLocation: jobLocation(running.id),
      }),
    );
  }
  if (error instanceof JobNotCancellableError) {
    return new HttpProblem(
      problem(409, 'JOB_NOT_CANCELLABLE', error.message, {
        jobId: error.job.id,
        state: error.job.state,
        phase: error.job.phase,
      }),
    );
  }
  if (error instanceof NotAProjectionError)
    return new HttpProblem(problem(409, 'NOT_A_PROJECTION', error.message));
  return error;
}
