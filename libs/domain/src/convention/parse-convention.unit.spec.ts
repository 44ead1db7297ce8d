import { conventionIdSchema } from './convention-id.js';
import { InvalidConventionError, parseConvention, validateConvention } from './parse-convention.js';
import { formatMemory, parseMemory } from './memory.js';

describe(parseConvention.name, () => {
  it('parses YAML with defaults filled in', () => {
    const convention = parseConvention(`
id: geo
ingester:
  command: ["node", "ingest.mjs"]
hooks:
  - name: check
    command: ["node", "check.mjs"]
    limits: { memory: 1.5g }
`);
    expect(convention.ingester).toMatchObject({ limits: { timeout_seconds: 3600, memory: '1g', cpu: '0.5' }, permanent_exit_codes: [] });
    expect(convention.hooks[0]!.limits).toMatchObject({ memory: '1.5g' });
  });

  it('parses JSON too', () => {
    expect(parseConvention('{"id": "j", "hooks": []}').id).toBe('j');
  });

  it('names every field that is wrong', () => {
    const attempt = () =>
      parseConvention(
        JSON.stringify({
          id: 'Bad Id',
          ingester: { command: [] },
          hooks: [
            { name: 'a', command: ['x'], limits: { memory: 'lots' } },
            { name: 'a', command: ['y'] },
          ],
          extra: 1,
        }),
        'conv.json',
      );
    expect(attempt).toThrow(InvalidConventionError);
    const message = (() => {
      try {
        attempt();
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(message).toContain('invalid convention conv.json');
    expect(message).toContain('id: must be 1-40 lowercase letters');
    expect(message).toContain('ingester.command: must name the program to run');
    expect(message).toContain('hooks.0.limits.memory: must be a memory size');
    expect(message).toContain('hooks: hook names must be unique');
    expect(message).toContain('Unrecognized key: "extra"');
  });

  it('says when the text is not YAML at all', () => {
    expect(() => parseConvention('id: [unclosed', 'x.yaml')).toThrow(/not valid YAML or JSON/);
  });
});

describe(parseMemory.name, () => {
  it.each([
    ['256m', 256 * 1024 ** 2],
    ['1.5g', 1536 * 1024 ** 2],
    ['512Mi', 512 * 1024 ** 2],
    ['2Gi', 2 * 1024 ** 3],
    ['1024', 1024],
  ])('reads %s', (text, bytes) => expect(parseMemory(text)).toBe(bytes));

  it.each(['', 'lots', '-1g', '0', '1x'])('rejects %j', (text) => expect(parseMemory(text)).toBeUndefined());

  it('formats bytes the way operators write limits', () => {
    expect(formatMemory(2 * 1024 ** 3)).toBe('2g');
    expect(formatMemory(768 * 1024 ** 2)).toBe('768m');
  });
});

describe('convention limits and config', () => {
  const withIngester = (ingester: Record<string, unknown>) => ({ id: 'c', ingester: { command: ['x'], ...ingester } });
  const problemsOf = (document: unknown): string => {
    try {
      validateConvention(document);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('the convention was accepted');
  };

  it.each([0.5, 2, '0.25', '250m', '1', 0.001])('accepts the CPU quantity %j', (cpu) => {
    expect(validateConvention(withIngester({ limits: { cpu } })).ingester!.limits.cpu).toBe(String(cpu));
  });

  it.each([1e308, 1e-7, 0.0001, 0, -1, Number.NaN, '1e+308', '0', '0.0001', '5000', 'lots', '1.5 m'])(
    'refuses the CPU quantity %j, as a number too',
    (cpu) => {
      expect(problemsOf(withIngester({ limits: { cpu } }))).toContain('ingester.limits.cpu: must be a CPU quantity');
    },
  );

  it('refuses a __proto__ key in config, at any depth, naming it (it would vanish on the way to the container)', () => {
    const topLevel: unknown = JSON.parse('{"id": "c", "ingester": {"command": ["x"], "config": {"__proto__": {"polluted": true}, "page_size": 10}}}');
    expect(problemsOf(topLevel)).toContain('ingester.config.__proto__: the key "__proto__" is not allowed');
    const nested = 'id: c\nhooks:\n  - name: h\n    command: [x]\n    config: { a: { __proto__: 1 } }\n';
    expect(() => parseConvention(nested)).toThrow('hooks.0.config.a.__proto__: the key "__proto__" is not allowed');
  });

  it('refuses config Postgres cannot store or JSON cannot write, naming the path', () => {
    expect(problemsOf(withIngester({ config: { token: 'a\u0000b' } }))).toContain('ingester.config.token: must not contain NUL');
    expect(problemsOf(withIngester({ config: { ['k\u0000']: 1 } }))).toContain('ingester.config."k\\u0000": key must not contain NUL');
    expect(problemsOf(withIngester({ config: { half: '\ud800' } }))).toContain('ingester.config.half: must not contain NUL characters or unpaired');
    expect(problemsOf(withIngester({ config: { n: Number.POSITIVE_INFINITY } }))).toContain('ingester.config.n: must be a finite number');
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    expect(problemsOf(withIngester({ config: deep }))).toContain('nests deeper than 64 levels');
  });

  it('keeps ordinary config exactly as written', () => {
    const config = { page_size: 200, nested: { list: [1, 'two', null, true], constructor: 'fine', prototype: 'fine' } };
    expect(validateConvention(withIngester({ config })).ingester!.config).toEqual(config);
  });

  it('refuses NUL in the command, image and description', () => {
    const message = problemsOf({ id: 'c', description: 'x\u0000', ingester: { command: ['sh\u0000'], image: 'img\u0000' } });
    expect(message).toContain('description: must not contain NUL');
    expect(message).toContain('ingester.command.0: must not contain NUL');
    expect(message).toContain('ingester.image: must not contain NUL');
  });
});

describe('conventionIdSchema', () => {
  it.each(['geo-samples', 'a', 'a_1', 'x'.repeat(40)])('accepts %j', (id) => expect(conventionIdSchema.safeParse(id).success).toBe(true));

  it.each([
    ['a NUL', 'a\u0000', 'must be 1-40 lowercase letters'],
    ['41 characters', 'x'.repeat(41), 'must be at most 40 characters'],
    ['5 MB', 'x'.repeat(5_000_000), 'must be at most 40 characters'],
    ['a lone surrogate', '\ud800', 'must be 1-40 lowercase letters'],
    ['capitals', 'Geo', 'must be 1-40 lowercase letters'],
    ['a leading dash', '-a', 'must be 1-40 lowercase letters'],
    ['a trailing newline', 'a\n', 'must be 1-40 lowercase letters'],
    ['nothing', '', 'must be 1-40 lowercase letters'],
  ])('refuses %s with one clear message that does not echo the value', (_label, id, message) => {
    const result = conventionIdSchema.safeParse(id);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.message)).toEqual([expect.stringContaining(message)]);
  });
});
