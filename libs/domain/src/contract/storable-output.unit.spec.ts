import { z } from 'zod';
import { isUnstorable, storableLine, UNSTORABLE_VALUE } from './storable-output.js';

const line = storableLine(z.object({ id: z.string(), value: z.unknown() }).strict());
const issuesOf = (value: unknown) => {
  const result = line.safeParse(value);
  return result.success ? [] : result.error.issues;
};

describe(storableLine.name, () => {
  it('passes a storable line on to the schema unchanged', () => {
    expect(line.parse({ id: 'a', value: { deep: ['é', 1.5, null, true] } })).toEqual({ id: 'a', value: { deep: ['é', 1.5, null, true] } });
  });

  it('refuses a number JSON cannot write back (1e400 parses to Infinity), naming where', () => {
    const issues = issuesOf(JSON.parse('{"id":"a","value":{"n":1e400}}'));
    expect(issues.map((i) => [i.path.join('.'), i.code])).toEqual([['value.n', 'custom']]);
    expect(isUnstorable(issues)).toBe(true);
  });

  it('names at most three unstorable values of one line', () => {
    const issues = issuesOf({ id: 'a', value: ['\u0000', '\u0000', '\u0000', '\u0000', '\u0000'] });
    expect(issues).toHaveLength(3);
    expect(issues.every((i) => (i as { params?: { kind?: string } }).params?.kind === UNSTORABLE_VALUE)).toBe(true);
  });

  it('shortens a long key on the way to a bad value, and names a bad key by its first characters, quoted', () => {
    const long = 'k'.repeat(100);
    expect(issuesOf({ id: 'a', value: { [long]: 'x\u0000' } })[0]?.path).toEqual(['value', `${'k'.repeat(57)}…`]);
    expect(issuesOf({ id: 'a', value: { [`${long}\u0000`]: 1 } })[0]?.path).toEqual(['value', `"${'k'.repeat(59)}`]);
  });
});

describe(isUnstorable.name, () => {
  it('is true only when every issue is an unstorable value: a malformed line is a different kind of issue', () => {
    expect(isUnstorable(issuesOf({ id: 'a\u0000', value: 1 }))).toBe(true);
    expect(isUnstorable(issuesOf({ id: 7, value: 1 }))).toBe(false);
    expect(isUnstorable(issuesOf({ id: 'a', value: 1, extra: true }))).toBe(false);
    expect(isUnstorable([])).toBe(false);
  });
});
