import { Module } from '@nestjs/common';
import { ProjectionAdminService } from './application/projection-admin.service.js';
import { ProjectionStatusService } from './application/projection-status.service.js';
import { AdminJobsController } from './http/admin-jobs.controller.js';
import { AdminProjectionsController } from './http/admin-projections.controller.js';

/**
 * The projection admin: `/admin/projections` and `/admin/jobs` (operator role), and ProjectionStatusService
 * — the projections' health for `/health/ready` and `/metrics` (bound as ProjectionObserver by the
 * operations module). The runtime it drives (consumer registry, supervisor, jobs) comes from the read side.
 */
@Module({
  controllers: [AdminProjectionsController, AdminJobsController],
  providers: [ProjectionStatusService, ProjectionAdminService],
  exports: [ProjectionStatusService, ProjectionAdminService],
})
export class ProjectionAdminModule {}
