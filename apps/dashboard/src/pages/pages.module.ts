import { Module } from '@nestjs/common';
import { ControlPlaneModule } from '#osa/pipeline';
import { AssetsController } from './assets.controller.js';
import { PagesController } from './pages.controller.js';
import { RunPagesService } from './run-pages.service.js';

/** The run pages at /runs and their assets at /assets (server-rendered HTML, same auth as the API). */
@Module({
  imports: [ControlPlaneModule],
  controllers: [PagesController, AssetsController],
  providers: [RunPagesService],
})
export class PagesModule {}
