import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ErrorKind } from '../errors/error-kind.js';
import { PermanentError } from '../errors/permanent.error.js';
import { type Convention, conventionSchema } from './convention.schema.js';

/** Raised for a convention document that does not validate; lists every problem by field path. */
export class InvalidConventionError extends PermanentError {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid convention ${source}:\n  - ${problems.join('\n  - ')}`, ErrorKind.InvalidConvention);
    this.name = 'InvalidConventionError';
    Object.setPrototypeOf(this, InvalidConventionError.prototype);
  }
}

/** Formats zod issues as `path.to.field: message`, the way every boundary reports bad input. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.length ? issue.path.map(String).join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
}

export function validateConvention(document: unknown, source = 'document'): Convention {
  const result = conventionSchema.safeParse(document);
  if (!result.success) throw new InvalidConventionError(source, formatIssues(result.error.issues));
  return result.data;
}

/** Parses a convention written as YAML or JSON (JSON is valid YAML). */
export function parseConvention(text: string, source = 'document'): Convention {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    throw new InvalidConventionError(source, [`(root): not valid YAML or JSON: ${(err as Error).message}`]);
  }
  return validateConvention(document, source);
}
