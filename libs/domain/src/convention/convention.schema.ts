import { z } from 'zod';
import { parseMemory } from './memory.js';

const name = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-_]{0,38}[a-z0-9])?$/, 'must be 1-40 lowercase letters, digits, "-" or "_"');

const memory = z
  .string()
  .refine((v) => parseMemory(v) !== undefined, 'must be a memory size such as "256m", "1.5g" or "512Mi"');

const limits = z
  .object({
    timeout_seconds: z.number().int().positive().max(7 * 24 * 3600).default(3600),
    memory: memory.default('1g'),
    cpu: z
      .union([z.string().regex(/^\d+(\.\d+)?m?$/, 'must be a CPU quantity such as "0.5" or "250m"'), z.number().positive()])
      .transform(String)
      .default('0.5'),
  })
  .strict()
  .prefault({});

const container = {
  image: z.string().min(1).optional(),
  command: z.array(z.string().min(1)).min(1, 'must name the program to run'),
  config: z.record(z.string(), z.unknown()).optional(),
  limits,
};

export const ingesterSpecSchema = z
  .object({
    ...container,
    /** Exit codes that mean "do not retry" (default: every non-zero exit of an ingester is transient). */
    permanent_exit_codes: z.array(z.number().int().min(1).max(255)).default([]),
  })
  .strict();

export const hookSpecSchema = z.object({ name, ...container }).strict();

export const conventionSchema = z
  .object({
    id: name,
    description: z.string().optional(),
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
