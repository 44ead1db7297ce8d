import { z } from 'zod';
import { conventionIdSchema, RunStatus, runIdSchema } from '#osa/domain';
import { replayBodySchema } from '../api/ingestions.controller.js';

/** An empty form field means "not given" (a GET form sends every field, filled or not). */
const optional = <S extends z.ZodType>(schema: S) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/** Far past any real list; a bound keeps a typed-in page number from becoming a huge OFFSET. */
const MAX_PAGE = 10_000;
const pageNumber = z.coerce.number().int().min(1).max(MAX_PAGE).default(1);

export const runPathSchema = z.object({ id: runIdSchema });

export const runListQuerySchema = z.object({
  convention: optional(conventionIdSchema),
  status: optional(z.enum(Object.values(RunStatus) as [RunStatus, ...RunStatus[]], `must be one of ${Object.values(RunStatus).join(', ')}`)),
  page: pageNumber,
});
export type RunListInput = z.output<typeof runListQuerySchema>;

export const runPageQuerySchema = z.object({
  batch: optional(z.coerce.number().int().min(0).max(2_147_483_647)),
  kind: optional(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be an issue kind such as invalid_json')),
  issuesPage: pageNumber,
  failedPage: pageNumber,
});

/**
 * The replay form: the API's replay body (same fields, same checks) with the batch list typed
 * as "3, 7". The confirmation step also carries `confirm` and the session's CSRF token.
 */
export const replayFormSchema = z
  .object({
    batches: optional(
      z
        .string()
        .max(2000)
        .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, 'must be batch numbers separated by commas, e.g. "3, 7"')
        .transform((s) => [...new Set(s.split(',').map((n) => Number(n.trim())))]),
    ),
    hook: optional(z.string()),
    memory: optional(z.string()),
    image: optional(z.string()),
    confirm: optional(z.literal('yes')),
    csrf: z.string().optional(),
  })
  .transform(({ batches, hook, memory, image, confirm }) => ({
    body: Object.fromEntries(Object.entries({ batches, hook, memory, image }).filter(([, v]) => v !== undefined)),
    confirmed: confirm === 'yes',
  }))
  .pipe(z.object({ body: replayBodySchema, confirmed: z.boolean() }));

export const confirmFormSchema = z.object({ confirm: z.literal('yes', 'the confirmation page must be used'), csrf: z.string().optional() });
