import { z } from 'zod';
import { jsonValueProblems } from '../convention/storable-json.js';

/**
 * How deeply a line of container output may nest, the line's own object being level 1. Postgres
 * jsonb and JSON.stringify both recurse, so a deeper value could fail a whole batch (or, at
 * thousands of levels, overflow the stack) long after the line was accepted.
 */
export const MAX_OUTPUT_DEPTH = 64;

/** Issue kind of a line refused because the archive cannot store one of its values. */
export const UNSTORABLE_VALUE = 'unstorable_value';

/** At most this many unstorable values are named per line; the first is enough to act on. */
const NAMED_PROBLEMS = 3;

/**
 * Wraps the schema of one container output line so that the line is first checked, as parsed
 * and before anything copies it, for values the archive cannot store: NUL or an unpaired
 * surrogate in any string or key, a `__proto__` key (it would vanish on the way), a number JSON
 * cannot write, or nesting deeper than {@link MAX_OUTPUT_DEPTH}. The check walks with its own
 * stack (no recursion), so any depth JSON.parse accepted is safe to check. Its issues carry
 * `params.kind` = {@link UNSTORABLE_VALUE} and the path of the value.
 */
export function storableLine<S extends z.ZodType>(schema: S) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      for (const problem of jsonValueProblems(value, MAX_OUTPUT_DEPTH).slice(0, NAMED_PROBLEMS)) {
        ctx.addIssue({ code: 'custom', path: problem.path.map(shortSegment), message: problem.message, params: { kind: UNSTORABLE_VALUE } });
      }
    })
    .pipe(schema);
}

/** True when a failed parse failed only because of values the archive cannot store. */
export function isUnstorable(issues: readonly z.core.$ZodIssue[]): boolean {
  return issues.length > 0 && issues.every((i) => i.code === 'custom' && (i.params as { kind?: string } | undefined)?.kind === UNSTORABLE_VALUE);
}

/** A key of any length may be valid; a reason names it shortened. */
function shortSegment(segment: string | number): string | number {
  return typeof segment === 'string' && segment.length > 60 ? `${segment.slice(0, 57)}…` : segment;
}
