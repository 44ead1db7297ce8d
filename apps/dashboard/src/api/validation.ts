import { BadRequestException } from '@nestjs/common';
import type { z } from 'zod';

export interface FieldProblem {
  field: string;
  message: string;
}

/** A 400 whose message and `issues` name every bad field. */
export function badRequest(what: string, problems: FieldProblem[]): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: `invalid ${what}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
    issues: problems,
  });
}

/** Parses request input with a zod schema; a failure is a 400 naming each field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw badRequest(
    what,
    result.error.issues.map((issue) => ({ field: fieldOf(issue), message: issue.message })),
  );
}

function fieldOf(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  // A strict object names the keys it does not know in the issue, not in its path.
  if (issue.code === 'unrecognized_keys') path.push(issue.keys.join(','));
  return path.length ? path.join('.') : '(root)';
}

/** Splits a `field: message` problem line (the domain's formatIssues style) into its parts. */
export function problemToField(problem: string): FieldProblem {
  const colon = problem.indexOf(':');
  return colon > 0 ? { field: problem.slice(0, colon), message: problem.slice(colon + 1).trim() } : { field: '(root)', message: problem };
}
