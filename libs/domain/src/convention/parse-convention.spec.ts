import { InvalidConventionError, parseConvention } from './parse-convention.js';
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
        JSON.stringify({ id: 'Bad Id', ingester: { command: [] }, hooks: [{ name: 'a', command: ['x'], limits: { memory: 'lots' } }, { name: 'a', command: ['y'] }], extra: 1 }),
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
