import { Controller, Get, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { Public } from '../auth/require-scopes.decorator.js';
import { LIVE_SCRIPT, STYLESHEET } from './assets.js';

function sendAsset(res: ServerResponse, type: string, body: string): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', `${type}; charset=utf-8`);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'public, max-age=300');
  res.end(body);
}

/** The pages' stylesheet and script: public like any static asset (they hold no data). */
@Controller('assets')
@Public()
export class AssetsController {
  @Get('dashboard.css')
  stylesheet(@Res() res: ServerResponse) {
    sendAsset(res, 'text/css', STYLESHEET);
  }

  @Get('live.js')
  script(@Res() res: ServerResponse) {
    sendAsset(res, 'text/javascript', LIVE_SCRIPT);
  }
}
