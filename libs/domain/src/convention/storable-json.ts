import { isStorableText, STORABLE_TEXT_MESSAGE } from '../text/storable-text.js';

/** How deeply a convention's `config` may nest: deeper documents are refused, not walked. */
export const MAX_CONFIG_DEPTH = 64;

/** Enough problems to fix at once; a hostile document would otherwise produce millions. */
const MAX_PROBLEMS = 20;

/** A problem with one value of a JSON document, at its path below the document. */
export interface JsonValueProblem {
  path: Array<string | number>;
  message: string;
}

/**
 * Checks that a value can be stored in Postgres jsonb and handed to a container as JSON exactly
 * as written. Refused: a `__proto__` key (JavaScript objects treat it as the prototype, so the
 * key would silently vanish on the way to the container), text Postgres cannot store, numbers
 * JSON cannot write (Infinity, NaN), values JSON does not have, and nesting deeper than
 * `maxDepth`. Walks with an explicit stack, so no document can exhaust the call stack.
 */
export function jsonValueProblems(value: unknown, maxDepth = MAX_CONFIG_DEPTH): JsonValueProblem[] {
  const problems: JsonValueProblem[] = [];
  const stack: Array<{ value: unknown; path: Array<string | number> }> = [{ value, path: [] }];
  while (stack.length > 0 && problems.length < MAX_PROBLEMS) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      if (!isStorableText(current)) problems.push({ path, message: STORABLE_TEXT_MESSAGE });
    } else if (typeof current === 'number') {
      if (!Number.isFinite(current)) problems.push({ path, message: 'must be a finite number (JSON has no Infinity or NaN)' });
    } else if (current === null || typeof current === 'boolean') {
      continue;
    } else if (typeof current === 'object') {
      if (path.length >= maxDepth) {
        problems.push({ path, message: `nests deeper than ${maxDepth} levels` });
        continue;
      }
      if (Array.isArray(current)) {
        current.forEach((item, index) => stack.push({ value: item, path: [...path, index] }));
        continue;
      }
      if (Object.getPrototypeOf(current) !== Object.prototype && Object.getPrototypeOf(current) !== null) {
        problems.push({ path, message: 'must be a JSON object, array, string, number, boolean or null' });
        continue;
      }
      for (const [key, item] of Object.entries(current)) {
        if (key === '__proto__') {
          problems.push({
            path: [...path, key],
            message: 'the key "__proto__" is not allowed: JavaScript takes it for the object\'s prototype, so it would not reach the container',
          });
        } else if (!isStorableText(key)) {
          // The key itself cannot be echoed as is: name it escaped and shortened.
          problems.push({ path: [...path, JSON.stringify(key).slice(0, 60)], message: `key ${STORABLE_TEXT_MESSAGE}` });
        } else {
          stack.push({ value: item, path: [...path, key] });
        }
      }
    } else {
      problems.push({ path, message: 'must be a JSON object, array, string, number, boolean or null' });
    }
  }
  return problems;
}
