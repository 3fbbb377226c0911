import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { JOB_KINDS, JOB_STATES, type JobKind, type JobState } from '../../read-side/runtime/jobs/job.js';
import { ANY_JSON } from '../../shared/http/openapi.js';
import { IsOmittable } from '../../shared/http/text.js';

/** A projection (or process manager) name as it can appear in a path. */
export const CONSUMER_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

// ---------------------------------------------------------------------------------------------------------
// Requests

/** `POST /admin/projections/:name/verify` */
export class VerifyDto {
  @ApiPropertyOptional({
    description: 'Write the expected documents over the drifted ones (conditionally). Default false.',
  })
  @IsOmittable()
  @IsBoolean()
  repair?: boolean;
}

/** `POST /admin/projections/:name/parked/replay` */
export class ReplayParkedDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 100_000,
    description: 'Replay only the oldest N (default: all)',
  })
  @IsOmittable()
  @IsInt()
  @Min(1)
  @Max(100_000)
  limit?: number;
}

/** `GET /admin/projections/:name/parked?limit=` */
export class ParkedQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @IsString()
  @Matches(/^(?:[1-9]\d{0,2}|1000)$/, { message: 'limit must be a whole number from 1 to 1000' })
  limit?: string;
}

/** `GET /admin/jobs?limit=&projection=&kind=&state=` */
export class JobsQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @IsString()
  @Matches(/^(?:[1-9]|[1-9]\d|100)$/, { message: 'limit must be a whole number from 1 to 100' })
  limit?: string;

  @ApiPropertyOptional({ example: 'orders', pattern: CONSUMER_NAME.source })
  @IsOptional()
  @IsString()
  @Matches(CONSUMER_NAME, { message: 'projection must be a projection name' })
  projection?: string;

  @ApiPropertyOptional({ enum: JOB_KINDS })
  @IsOptional()
  @IsIn(JOB_KINDS, { message: `kind must be one of ${JOB_KINDS.join(', ')}` })
  kind?: JobKind;

  @ApiPropertyOptional({ enum: JOB_STATES })
  @IsOptional()
  @IsIn(JOB_STATES, { message: `state must be one of ${JOB_STATES.join(', ')}` })
  state?: JobState;
}

// ---------------------------------------------------------------------------------------------------------
// Responses (documentation for OpenAPI; the handlers answer the application's views)

class ActiveJobDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: JOB_KINDS }) kind!: string;
  @ApiProperty({ enum: ['building', 'switching', 'draining', 'comparing', 'done'] }) phase!: string;
  @ApiProperty() eventsDone!: number;
  @ApiProperty() eventsTotal!: number;
}

class FreshnessDto {
  @ApiProperty({
    description: 'Freshness budget in force (declared with the projection, or FRESHNESS_BUDGETS)',
  })
  budgetMs!: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'Median time from append to application, ms (null: nothing applied in the window)',
  })
  p50Ms!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: '99th percentile of the same, ms' })
  p99Ms!: number | null;
  @ApiProperty({ description: 'Applications in the window (this instance)' }) samples!: number;
  @ApiProperty({ description: 'The window: the last 2048 applications of this many seconds' })
  windowSeconds!: number;
  @ApiProperty({ description: 'Applications over budget by this instance since it started' })
  overBudget!: number;
}

class DriftSightingDto {
  @ApiProperty({ example: 'orders', description: 'Logical collection' }) collection!: string;
  @ApiProperty() id!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'order-1f0c…',
    description: 'The stream it was judged against (null: an entry no event of this projection accounts for)',
  })
  streamId!: string | null;
  @ApiProperty({ enum: ['changed', 'extra'] }) kind!: string;
  @ApiProperty() liveRevision!: number;
  @ApiProperty({ nullable: true, type: Number }) expectedRevision!: number | null;
  @ApiProperty({
    type: [String],
    example: ['data.total'],
    description: 'Paths that differ (at most 10; values are in a verify report)',
  })
  fields!: string[];
  @ApiProperty({ type: String, format: 'date-time' }) foundAt!: string;
}

class ConsistencyDto {
  @ApiProperty({
    enum: ['off', 'suspended', 'sampling'],
    description: 'off: CONSISTENCY_SAMPLES_PER_SECOND=0; suspended: a rebuild or verify job runs on it',
  })
  sampling!: string;
  @ApiProperty({ description: 'CONSISTENCY_SAMPLES_PER_SECOND' }) samplesPerSecond!: number;
  @ApiProperty({ description: 'Documents compared with their streams by this instance since it started' })
  samples!: number;
  @ApiProperty({ description: 'Drifted documents found by this instance since it started' })
  driftFound!: number;
  @ApiProperty({ description: 'Documents known to differ from their streams now (degraded while above 0)' })
  driftedCount!: number;
  @ApiProperty({ type: [DriftSightingDto], description: 'At most 20 of them' })
  drifted!: DriftSightingDto[];
  @ApiProperty({ description: 'Times the walk over the live generation came round to its start' })
  passes!: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) lastSampleAt!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Why the last sample failed (a store down)' })
  lastError!: string | null;
}

export class ProjectionStatusDto {
  @ApiProperty({ example: 'orders' }) name!: string;
  @ApiProperty({ enum: ['projection', 'process-manager'] }) kind!: string;
  @ApiProperty({ example: 'projection-orders' }) group!: string;
  @ApiProperty({ enum: ['running', 'paused', 'rebuilding', 'faulted', 'stalled'] }) status!: string;
  @ApiProperty({ description: 'False when stalled or faulted (what turns /health/ready red)' })
  healthy!: boolean;
  @ApiProperty({
    description:
      'The consistency sampler found documents that differ from their streams and they still do (serving goes on; /health/ready says degraded)',
  })
  degraded!: boolean;
  @ApiProperty() paused!: boolean;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'web-2',
    description:
      'The instance delivering the group (INSTANCE_ID): PostgreSQL, its lease holder; embedded, this instance while it runs it; EventStoreDB, null (competing consumers)',
  })
  owner!: string | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      'Generation serving reads (projections); null for a process manager, and while the read store cannot be reached (lastError says so)',
  })
  liveGeneration!: number | null;
  @ApiProperty({ type: [String], example: ['orders_g1'] }) collections!: string[];
  @ApiProperty({ nullable: true, type: Number, description: 'The group checkpoint (global position)' })
  position!: number | null;
  @ApiProperty() headPosition!: number;
  @ApiProperty({ description: 'Matching events after the checkpoint, counted up to 100000' })
  lagEvents!: number;
  @ApiProperty({ description: 'Counting stopped at the cap: the lag is at least lagEvents ("100000+")' })
  lagEventsCapped!: boolean;
  @ApiProperty({ description: 'Age of the oldest unprocessed matching event; 0 when caught up' })
  lagMs!: number;
  @ApiProperty({
    nullable: true,
    type: FreshnessDto,
    description: 'Projections: freshness p50/p99 and budget (this instance); null for a process manager',
  })
  freshness!: FreshnessDto | null;
  @ApiProperty({ description: 'Events applied per second, last 10 s, this instance' })
  eventsPerSecond!: number;
  @ApiProperty({ description: 'Events applied by this instance since it started' }) eventsApplied!: number;
  @ApiProperty() parked!: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) lastHeartbeat!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) lastBatchAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) lastError!: string | null;
  @ApiProperty({
    nullable: true,
    type: ConsistencyDto,
    description: 'Continuous consistency monitoring, this instance (null for process managers)',
  })
  consistency!: ConsistencyDto | null;
  @ApiProperty({
    nullable: true,
    type: ActiveJobDto,
    description:
      'The rebuild or verify running on it; null when none, or while the read store cannot be reached',
  })
  job!: ActiveJobDto | null;
}

export class ProjectionListDto {
  @ApiProperty({ type: [ProjectionStatusDto] }) items!: ProjectionStatusDto[];
}

class FieldDriftDto {
  @ApiProperty({ example: 'data.total', description: '`data.<path>`, `meta.revision` or `meta.position`' })
  path!: string;
  @ApiProperty({ ...ANY_JSON, description: 'Live value (any JSON)' }) live!: unknown;
  @ApiProperty({ ...ANY_JSON, description: 'Expected value (any JSON)' }) expected!: unknown;
  @ApiPropertyOptional({ enum: ['live-only', 'expected-only'] }) presence?: string;
}

class DriftedDocumentDto {
  @ApiProperty({ example: 'orders', description: 'Logical collection' }) collection!: string;
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['changed', 'missing', 'extra'] }) kind!: string;
  @ApiProperty({ nullable: true, type: Number }) liveRevision!: number | null;
  @ApiProperty({ nullable: true, type: Number }) expectedRevision!: number | null;
  @ApiProperty({ type: [FieldDriftDto] }) fields!: FieldDriftDto[];
  @ApiProperty() repaired!: boolean;
}

class VerifyResultDto {
  @ApiProperty() liveGeneration!: number;
  @ApiProperty() shadowGeneration!: number;
  @ApiProperty({ description: 'Documents and entries compared' }) compared!: number;
  @ApiProperty() drifted!: number;
  @ApiProperty() repaired!: number;
  @ApiProperty({ description: 'Not reached by the live projection yet: neither drift nor verified' })
  pending!: number;
  @ApiProperty({ type: [DriftedDocumentDto], description: 'At most 1000' }) drift!: DriftedDocumentDto[];
  @ApiProperty() truncated!: boolean;
}

class SkippedStreamDto {
  @ApiProperty() streamId!: string;
  @ApiProperty() reason!: string;
}

class JobLinksDto {
  @ApiProperty({ example: '/admin/jobs/1f0c…' }) self!: string;
}

export class JobDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: JOB_KINDS }) kind!: string;
  @ApiProperty({ example: 'orders' }) projection!: string;
  @ApiProperty({ enum: JOB_STATES }) state!: string;
  @ApiProperty({
    enum: ['building', 'switching', 'draining', 'comparing', 'done'],
    description:
      'building: the new (or shadow) generation is filled from the events; switching: a final catch-up, then ' +
      'the live pointer moves (rebuild); draining: the new generation is live, the replaced one is dropped ' +
      'at dropAt; comparing: the shadow is diffed with the live generation (verify); done: finished',
  })
  phase!: string;
  @ApiProperty() generation!: number;
  @ApiProperty() fromGeneration!: number;
  @ApiProperty({ nullable: true, type: Number }) replacedGeneration!: number | null;
  @ApiProperty() eventsDone!: number;
  @ApiProperty() eventsTotal!: number;
  @ApiProperty({ minimum: 0, maximum: 1 }) progress!: number;
  @ApiProperty({ description: 'events/s' }) rate!: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      'Estimated seconds left in building, from the recent rate (null until there is one); 0 once built. ' +
      'The other phases are not estimated: draining ends at dropAt',
  })
  etaSeconds!: number | null;
  @ApiProperty({ nullable: true, type: Number }) position!: number | null;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) switchedAt!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description:
      'When the replaced generation is dropped (switchedAt + REBUILD_DROP_GRACE_MS): the end of draining',
  })
  dropAt!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) finishedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty() cancelRequested!: boolean;
  @ApiProperty() requestedBy!: string;
  @ApiProperty() repair!: boolean;
  @ApiProperty({ nullable: true, type: String }) owner!: string | null;
  @ApiProperty({ format: 'date-time' }) heartbeatAt!: string;
  @ApiProperty({ type: [SkippedStreamDto] }) skipped!: SkippedStreamDto[];
  @ApiProperty() skippedCount!: number;
  @ApiProperty({ nullable: true, type: VerifyResultDto }) result!: VerifyResultDto | null;
  @ApiProperty({ type: JobLinksDto }) links!: JobLinksDto;
}

export class JobListDto {
  @ApiProperty({ type: [JobDto] }) items!: JobDto[];
}

export class ParkedEventDto {
  @ApiProperty() position!: number;
  @ApiProperty({ format: 'uuid' }) eventId!: string;
  @ApiProperty() streamId!: string;
  @ApiProperty() revision!: number;
  @ApiProperty() type!: string;
  @ApiProperty({ format: 'date-time' }) created!: string;
  @ApiProperty() reason!: string;
  @ApiProperty() retryCount!: number;
  @ApiProperty({ format: 'date-time' }) parkedAt!: string;
  @ApiProperty({ type: Object }) data!: object;
  @ApiProperty({ type: Object }) metadata!: object;
}

export class ParkedListDto {
  @ApiProperty({ type: [ParkedEventDto] }) items!: ParkedEventDto[];
  @ApiProperty({ description: 'Parked events in all' }) total!: number;
}

export class ReplayResultDto {
  @ApiProperty() replayed!: number;
}
