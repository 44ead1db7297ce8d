import type { z } from 'zod';
import { formatIssues } from '../convention/parse-convention.js';
import { hookErrorLineSchema, hookFeatureLineSchema, hookRejectionLineSchema, ingestedRecordSchema } from './container-output.schema.js';

const nested = (depth: number): unknown => {
  const root: Record<string, unknown> = {};
  let node = root;
  for (let i = 1; i < depth; i++) node = node.a = {};
  return root;
};

const reasons = (schema: z.ZodType, value: unknown) => {
  const result = schema.safeParse(value);
  return result.success ? [] : formatIssues(result.error.issues);
};

describe('container output line schemas', () => {
  describe('ingestedRecordSchema', () => {
    it('accepts a plain record', () => {
      expect(reasons(ingestedRecordSchema, { source_id: 'r1', metadata: { a: { b: ['é', 1, null] } } })).toEqual([]);
    });

    it.each([
      ['a NUL in a nested string', { source_id: 'r', metadata: { a: { b: 'x\u0000y' } } }, 'metadata.a.b: must not contain NUL'],
      ['a NUL in a key', { source_id: 'r', metadata: { 'k\u0000': 1 } }, 'metadata."k\\u0000": key must not contain NUL'],
      [
        'a lone surrogate in a value',
        { source_id: 'r', metadata: { list: ['ok', '\ud800'] } },
        'metadata.list.1: must not contain NUL characters or unpaired UTF-16 surrogates',
      ],
      ['a lone surrogate in a key', { source_id: 'r', metadata: { '\udc00': 1 } }, 'metadata."\\udc00": key must not contain'],
      [
        'a source id that is not well-formed Unicode',
        { source_id: 'id-\ud83d', metadata: {} },
        'source_id: must not contain NUL characters or unpaired UTF-16 surrogates',
      ],
      ['a NUL in a file name', { source_id: 'r', files: [{ name: 'a\u0000', relative_path: 'a' }] }, 'files.0.name: must not contain NUL'],
      [
        'a __proto__ key, which would vanish',
        JSON.parse('{"source_id":"r","metadata":{"__proto__":{"x":1}}}'),
        'metadata.__proto__: the key "__proto__" is not allowed',
      ],
      ['nesting deeper than 64 levels', { source_id: 'r', metadata: nested(64) }, 'nests deeper than 64 levels'],
    ])('refuses %s, naming where', (_what, record, reason) => {
      expect(reasons(ingestedRecordSchema, record).join('; ')).toContain(reason);
    });

    it('accepts nesting of 64 levels, the line itself being the first', () => {
      expect(reasons(ingestedRecordSchema, { source_id: 'r', metadata: nested(63) })).toEqual([]);
    });

    it('checks a 20,000-deep record without recursion (no stack overflow)', () => {
      const deep: unknown = JSON.parse(`{"source_id":"r","metadata":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`);
      expect(reasons(ingestedRecordSchema, deep).join('; ')).toContain('nests deeper than 64 levels');
    });
  });

  describe('hook outcome lines', () => {
    it('refuse features, reasons, errors and ids the archive cannot store', () => {
      expect(reasons(hookFeatureLineSchema, { id: 'r', features: [{ k: 'a\u0000' }] }).join()).toContain('features.0.k: must not contain NUL');
      expect(reasons(hookFeatureLineSchema, { id: 'r', features: [nested(20_000)] }).join()).toContain('nests deeper than 64 levels');
      expect(reasons(hookRejectionLineSchema, { id: 'r', reason: 'bad\ud800' }).join()).toContain('reason: must not contain');
      expect(reasons(hookErrorLineSchema, { id: 'r', error: '\u0000' }).join()).toContain('error: must not contain');
      expect(reasons(hookFeatureLineSchema, { id: 'r\u0000', features: [] }).join()).toContain('id: must not contain');
    });

    it('accept what they accepted before', () => {
      expect(hookFeatureLineSchema.parse({ id: 'r', features: [1, { a: [] }] })).toEqual({ id: 'r', features: [1, { a: [] }] });
      expect(hookErrorLineSchema.parse({ id: 'r', error: 'e' })).toEqual({ id: 'r', error: 'e', retryable: false });
    });
  });
});
