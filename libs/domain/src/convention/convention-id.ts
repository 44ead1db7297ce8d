import { z } from 'zod';

/** The longest convention id or hook name; ids end up in job names, labels and log lines. */
export const MAX_NAME_LENGTH = 40;

/** What a convention id or hook name looks like (also published in the OpenAPI document). */
export const CONVENTION_ID_PATTERN = /^[a-z0-9]([a-z0-9_-]{0,38}[a-z0-9])?$/;

/**
 * A convention id or hook name: 1-40 lowercase ASCII letters, digits, "-" or "_", starting and
 * ending with a letter or digit. The character set also rules out NUL and anything that is not
 * well-formed Unicode, so an id from any client (HTTP body or query, queue payload, CLI) is
 * refused where it enters instead of failing later in Postgres. The value is never echoed: a
 * hostile one may be megabytes long.
 */
export const conventionIdSchema = z
  .string({ error: 'must be a string' })
  .max(MAX_NAME_LENGTH, { error: `must be at most ${MAX_NAME_LENGTH} characters`, abort: true })
  .regex(CONVENTION_ID_PATTERN, `must be 1-${MAX_NAME_LENGTH} lowercase letters, digits, "-" or "_", starting and ending with a letter or digit`);

/** Hook names follow the same rules as convention ids. */
export const hookNameSchema = conventionIdSchema;
