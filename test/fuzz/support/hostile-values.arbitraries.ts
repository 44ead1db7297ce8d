import fc from 'fast-check';

/**
 * Values both container roles put in their output: JSON that Postgres stores as it is, and the
 * hostile kinds it cannot (NUL, lone surrogates, nesting deeper than its parser's stack).
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What a careful upstream sends: no NUL, well-formed Unicode, shallow. */
export const storableJson: fc.Arbitrary<JsonValue> = fc
  .jsonValue({ maxDepth: 3, stringUnit: 'grapheme' })
  .filter((v) => !JSON.stringify(v).includes('\\u0000')) as fc.Arbitrary<JsonValue>;

/** `__proto__` is left to the odd-keys family: through a plain object it is a prototype, not a key. */
export const storableKey = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }).filter((k) => !k.includes('\u0000') && k !== '__proto__');

export const storableObject = fc.dictionary(storableKey, storableJson, { maxKeys: 4 });

/** A character Postgres refuses inside jsonb (and NUL inside text). */
export const unstorableChar = fc.constantFrom('\u0000', '\ud800', '\udfff', '\udc00x', 'x\ud83d');

/** Where an unstorable character hides inside an otherwise ordinary object. */
export const unstorablePlacement = fc.constantFrom('value', 'key', 'nested-value', 'array-item');

export function placeUnstorable(char: string, where: string): Record<string, JsonValue> {
  switch (where) {
    case 'key':
      return { [`k${char}`]: 1 };
    case 'nested-value':
      return { a: { b: [1, { c: `x${char}y` }] } };
    case 'array-item':
      return { list: ['ok', char] };
    default:
      return { v: char };
  }
}

/** Nesting depths from ordinary to far past what JSON.stringify and Postgres survive. */
export const nestingDepth = fc.constantFrom(50, 1_000, 9_000, 20_000, 60_000);

/** JSON text nested `depth` levels deep, built as text: the value itself could not be stringified. */
export function deepJsonText(depth: number, shape: 'array' | 'object'): string {
  return shape === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Line sizes from tiny to several megabytes; the largest is rare. */
export const hugeSize = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(1, 1024, 300 * 1024) },
  { weight: 2, arbitrary: fc.constant(2 * 1024 * 1024) },
  { weight: 1, arbitrary: fc.constant(12 * 1024 * 1024) },
);

/** Byte sequences that are not UTF-8: a stray continuation, overlong, a UTF-8 encoded surrogate, truncated. */
export const invalidUtf8: fc.Arbitrary<number[]> = fc.constantFrom<number[]>(
  [0xff],
  [0x80],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
  [0xfe, 0xfe],
);

/** Raw bytes that are not a blank line and hold no newline. */
export const rawLineBytes = fc
  .uint8Array({ minLength: 1, maxLength: 64 })
  .map((a) => Array.from(a, (b) => (b === 0x0a ? 0x20 : b)))
  .filter((bytes) => Buffer.from(bytes).toString('utf8').replace(/\r$/, '').trim() !== '');

/** Blank lines are not lines: the contract skips them. */
export const blankLine = fc.constantFrom('', '   ', '\t', '\r');

/** Not well-formed JSON, or JSON that is not an object. */
export const malformedText = fc.constantFrom(
  '{"source_id": "broken',
  '{"source_id": "x", "metadata": {}',
  'null',
  '42',
  '"a string"',
  '[{"source_id": "in-array"}]',
  'true',
  '{"source_id": "raw\u0000nul"}',
  '\ufeff{"source_id": "bom"}',
  '{"source_id": "x", "metadata": {}}}',
  '{source_id: "unquoted"}',
  'NaN',
);
