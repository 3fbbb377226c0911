import { Controller, Delete, Get, Param, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../../auth/roles.decorator.js';
import { UuidPathPipe } from '../../shared/http/validation.js';
import type { JobView } from '../application/admin-views.js';
import { ProjectionAdminService } from '../application/projection-admin.service.js';
import { JobDto, JobListDto, JobsQueryDto } from './admin.dto.js';

const jobId = new UuidPathPipe('job');

/** Rebuild and verify jobs: progress, result, cancel. */
@ApiTags('admin')
@Controller('admin/jobs')
@Roles('operator')
export class AdminJobsController {
  constructor(private readonly admin: ProjectionAdminService) {}

  @Get()
  @ApiOperation({ summary: 'Recent jobs, newest first' })
  @ApiOkResponse({ type: JobListDto })
  async list(@Query() query: JobsQueryDto): Promise<{ items: JobView[] }> {
    const limit = query.limit === undefined ? 20 : Number(query.limit);
    const items = await this.admin.listJobs(limit, {
      ...(query.projection !== undefined && { projection: query.projection }),
      ...(query.kind !== undefined && { kind: query.kind }),
      ...(query.state !== undefined && { state: query.state }),
    });
    return { items };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A job: state, events done/total, rate, ETA, result' })
  @ApiOkResponse({ type: JobDto })
  get(@Param('id', jobId) id: string): Promise<JobView> {
    return this.admin.job(id);
  }

  @Delete(':id')
  @ApiOperation({
    summary: 'Cancel a running job (the live generation keeps serving; the half-built one is dropped)',
    description:
      '200 with the job `cancelled`; 202 with `cancelRequested: true` when another instance runs it and has ' +
      'not stopped yet. 409 `JOB_NOT_CANCELLABLE` once it has ended or switched generations.',
  })
  @ApiOkResponse({ type: JobDto })
  @ApiAcceptedResponse({ type: JobDto })
  async cancel(
    @Param('id', jobId) id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobView> {
    const { job, done } = await this.admin.cancelJob(id);
    void reply.status(done ? 200 : 202);
    return job;
  }
}
