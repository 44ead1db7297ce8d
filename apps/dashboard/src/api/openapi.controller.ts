import { Controller, Get } from '@nestjs/common';
import { Public } from '../auth/require-scopes.decorator.js';
import { openApiDocument } from './openapi.document.js';

/** `GET /api/openapi.json`: public, so clients can be generated without a token. */
@Controller('api')
@Public()
export class OpenApiController {
  @Get('openapi.json')
  document() {
    return openApiDocument;
  }
}
