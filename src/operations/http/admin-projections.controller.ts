import { Body, Controller, Get, HttpCode, Param, Post, Query, Res, type PipeTransform } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../../auth/roles.decorator.js';
import type { Actor } from '../../shared/application/command-context.js';
import { ResourceNotFoundError } from '../../shared/application/errors.js';
import { CurrentActor } from '../../shared/http/command-context.decorator.js';
import { EmptyBodyPipe } from '../../shared/http/validation.js';
import { jobLocation, type JobView, type ParkedEventView } from '../application/admin-views.js';
import { ProjectionAdminService } from '../application/projection-admin.service.js';
import type { ProjectionStatus } from '../application/projection-status.service.js';
import {
  CONSUMER_NAME,
  JobDto,
  ParkedListDto,
  ParkedQueryDto,
  ProjectionListDto,
  ProjectionStatusDto,
  ReplayParkedDto,
  ReplayResultDto,
  VerifyDto,
} from './admin.dto.js';

/** A name that cannot be a projection's cannot name an existing one: 404, like an unknown name. */
class ProjectionNamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!CONSUMER_NAME.test(value)) throw new ResourceNotFoundError('projection', value);
    return value;
  }
}

const projectionName = new ProjectionNamePipe();

/** Projections (and the checkout process manager): health, pause/resume, rebuild, verify, parked events. */
@ApiTags('admin')
@Controller('admin/projections')
@Roles('operator')
export class AdminProjectionsController {
  constructor(private readonly admin: ProjectionAdminService) {}

  @Get()
  @ApiOperation({ summary: 'Every projection and process manager: status, lag, rate, parked, heartbeat' })
  @ApiOkResponse({ type: ProjectionListDto })
  async list(): Promise<{ items: ProjectionStatus[] }> {
    return { items: await this.admin.list() };
  }

  @Get(':name')
  @ApiOperation({ summary: 'One projection or process manager' })
  @ApiOkResponse({ type: ProjectionStatusDto })
  get(@Param('name', projectionName) name: string): Promise<ProjectionStatus> {
    return this.admin.get(name);
  }

  @Post(':name/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop applying (persisted; every instance follows). Idempotent.' })
  @ApiOkResponse({ type: ProjectionStatusDto })
  pause(
    @Param('name', projectionName) name: string,
    @Body(EmptyBodyPipe) _body: unknown,
    @CurrentActor() actor: Actor,
  ): Promise<ProjectionStatus> {
    return this.admin.pause(name, actor);
  }

  @Post(':name/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Apply again and catch up from the checkpoint. Idempotent.' })
  @ApiOkResponse({ type: ProjectionStatusDto })
  resume(
    @Param('name', projectionName) name: string,
    @Body(EmptyBodyPipe) _body: unknown,
    @CurrentActor() actor: Actor,
  ): Promise<ProjectionStatus> {
    return this.admin.resume(name, actor);
  }

  @Post(':name/rebuild')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Rebuild into a new generation while the old one serves; switch when caught up (a job)',
    description: '`Location: /admin/jobs/<id>`. 409 `JOB_RUNNING` (with `jobId`) when a job of it runs.',
  })
  @ApiAcceptedResponse({ type: JobDto })
  async rebuild(
    @Param('name', projectionName) name: string,
    @Body(EmptyBodyPipe) _body: unknown,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobView> {
    return located(reply, await this.admin.rebuild(name, actor));
  }

  @Post(':name/verify')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Rebuild into a shadow generation and report every drifted document (a job); repair on request',
    description: "`Location: /admin/jobs/<id>`; the report is the job's `result`.",
  })
  @ApiAcceptedResponse({ type: JobDto })
  async verify(
    @Param('name', projectionName) name: string,
    @Body() body: VerifyDto,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobView> {
    return located(reply, await this.admin.verify(name, body.repair === true, actor));
  }

  @Get(':name/parked')
  @ApiOperation({ summary: 'Parked events, oldest first, with their reason and retry count' })
  @ApiOkResponse({ type: ParkedListDto })
  parked(
    @Param('name', projectionName) name: string,
    @Query() query: ParkedQueryDto,
  ): Promise<{ items: ParkedEventView[]; total: number }> {
    return this.admin.parked(name, query.limit === undefined ? 100 : Number(query.limit));
  }

  @Post(':name/parked/replay')
  @HttpCode(200)
  @ApiOperation({ summary: 'Deliver parked events again (all, or the oldest `limit`)' })
  @ApiOkResponse({ type: ReplayResultDto })
  replay(
    @Param('name', projectionName) name: string,
    @Body() body: ReplayParkedDto,
  ): Promise<{ replayed: number }> {
    return this.admin.replayParked(name, body.limit);
  }
}

/** 202 + `Location` of the job (asynchronous request-reply). */
function located(reply: FastifyReply, job: JobView): JobView {
  void reply.header('location', jobLocation(job.id));
  return job;
}
