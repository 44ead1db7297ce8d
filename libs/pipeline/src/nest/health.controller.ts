import { Controller, Get, HttpException, HttpStatus } from '@nestjs/common';
import { ReadinessCheck } from './readiness-check.js';

/** Liveness says the process runs; readiness says it can reach Redis and Postgres. */
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessCheck) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready() {
    const { ready, checks } = await this.readiness.evaluate();
    const body = { status: ready ? 'ok' : 'unavailable', checks };
    if (!ready) throw new HttpException(body, HttpStatus.SERVICE_UNAVAILABLE);
    return body;
  }
}
