import { Module } from '@nestjs/common';
import { AdminPageAssets } from './admin-page.assets.js';
import { AdminPageController } from './admin-page.controller.js';

/** The admin page at `/admin/` (static files; its data comes from the operator-only admin API). */
@Module({
  controllers: [AdminPageController],
  providers: [AdminPageAssets],
})
export class AdminPageModule {}
