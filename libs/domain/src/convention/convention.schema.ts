import { z } from 'zod';
import { conventionIdSchema, hookNameSchema } from './convention-id.js';
import { MAX_CPU_MILLICORES, parseCpu } from './cpu.js';
import { parseMemory } from './memory.js';
import { isStorableText, STORABLE_TEXT_MESSAGE } from '../text/storable-text.js';
import { jsonValueProblems } from './storable-json.js';

/** Free text of a convention: stored in jsonb and passed to processes, so NUL is refused. */
const text = z.string().refine(isStorableText, STORABLE_TEXT_MESSAGE);

const memory = z.string().refine((v) => parseMemory(v) !== undefined, 'must be a memory size such as "256m", "1.5g" or "512Mi"');

const limits = z
  .object({
    timeout_seconds: z
      .number()
      .int()
      .positive()
      .max(7 * 24 * 3600)
      .default(3600),
    memory: memory.default('1g'),
    // A number is a quantity too, and gets the same check: String(1e308) is no quantity.
    cpu: z
      .union([z.string(), z.number()], { error: 'must be a CPU quantity such as "0.5", 2 or "250m"' })
      .refine(
        (v) => parseCpu(v) !== undefined,
        `must be a CPU quantity such as "0.5", 2 or "250m": at least 1m, at most ${MAX_CPU_MILLICORES / 1000} cores, no finer than 1m`,
      )
      .transform(String)
      .default('0.5'),
  })
  .strict()
  .prefault({});

/**
 * Handed to the container as config.json: refused, naming the key, when it could not arrive as
 * written (see jsonValueProblems). The check runs on the document as given, before the record
 * copy, which would drop a `__proto__` key without a word.
 */
const config = z
  .unknown()
  .superRefine((value, ctx) => {
    for (const problem of jsonValueProblems(value)) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
  })
  .pipe(z.record(z.string(), z.unknown()));

const container = {
  image: text.min(1).max(512).optional(),
  command: z.array(text.min(1)).min(1, 'must name the program to run'),
  config: config.optional(),
  limits,
};

export const ingesterSpecSchema = z
  .object({
    ...container,
    /** Exit codes that mean "do not retry" (default: every non-zero exit of an ingester is transient). */
    permanent_exit_codes: z.array(z.number().int().min(1).max(255)).default([]),
  })
  .strict();

export const hookSpecSchema = z.object({ name: hookNameSchema, ...container }).strict();

export const conventionSchema = z
  .object({
    id: conventionIdSchema,
    description: text.optional(),
    ingester: ingesterSpecSchema.optional(),
    hooks: z
      .array(hookSpecSchema)
      .default([])
      .refine((hooks) => new Set(hooks.map((h) => h.name)).size === hooks.length, 'hook names must be unique'),
  })
  .strict();

export type Convention = z.output<typeof conventionSchema>;
export type IngesterSpec = z.output<typeof ingesterSpecSchema>;
export type HookSpec = z.output<typeof hookSpecSchema>;
export type ContainerLimits = z.output<typeof limits>;
