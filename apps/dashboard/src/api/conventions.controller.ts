import { Body, Controller, Get, Inject, NotFoundException, Param, Put } from '@nestjs/common';
import { z } from 'zod';
import type { AppConfig } from '#osa/config';
import { conventionIdSchema, conventionImageProblems, InvalidConventionError, validateConvention } from '#osa/domain';
import { ConventionRepository, type DatabaseHandle } from '#osa/persistence';
import { APP_CONFIG, DATABASE } from '#osa/pipeline';
import { RequireScopes } from '../auth/require-scopes.decorator.js';
import { badRequest, parseInput, problemToField } from './validation.js';

const conventionPathSchema = z.object({ id: conventionIdSchema });

/** Conventions: list, read, register or replace (runs already started keep their snapshot). */
@Controller('api/conventions')
@RequireScopes('runs:read')
export class ConventionsController {
  private readonly conventions = new ConventionRepository();

  constructor(
    @Inject(DATABASE) private readonly database: DatabaseHandle,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async list() {
    const rows = await this.conventions.list(this.database.db);
    return { items: rows.map((r) => ({ id: r.id, hooks: r.spec.hooks.map((h) => h.name), updatedAt: r.updatedAt, spec: r.spec })) };
  }

  @Get(':id')
  async get(@Param() params: unknown) {
    const { id } = parseInput(conventionPathSchema, params, 'path');
    const spec = await this.conventions.find(this.database.db, id);
    if (!spec) throw new NotFoundException(`no convention "${id}"`);
    return spec;
  }

  @Put(':id')
  @RequireScopes('conventions:write')
  async put(@Param() params: unknown, @Body() body: unknown) {
    const { id } = parseInput(conventionPathSchema, params, 'path');
    let convention;
    try {
      convention = validateConvention(body, `"${id}"`);
    } catch (err) {
      if (!(err instanceof InvalidConventionError)) throw err;
      throw badRequest('convention', err.problems.map(problemToField));
    }
    if (convention.id !== id) throw badRequest('convention', [{ field: 'id', message: `must match the path ("${id}"), got "${convention.id}"` }]);
    const imageProblems = conventionImageProblems(convention, this.config.allowedImagePrefixes);
    if (imageProblems.length) throw badRequest('convention', imageProblems.map(problemToField));
    const { created } = await this.conventions.upsert(this.database.db, convention);
    return { id, created, hooks: convention.hooks.map((h) => h.name) };
  }
}
