import { jest } from '@jest/globals';
import { ConnectionErrorLog } from './connection-error-log.js';

describe(ConnectionErrorLog.name, () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });

  function setup() {
    const lines: Array<Record<string, unknown>> = [];
    let now = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    const log = new ConnectionErrorLog({ error: (line: Record<string, unknown>) => lines.push(line) }, 'queue ingest-next-batch', 30_000);
    return { log, lines, advance: (ms: number) => (now += ms) };
  }
  afterEach(() => jest.restoreAllMocks());

  it('logs the first error of a burst with its code and counts the repeats', () => {
    const { log, lines, advance } = setup();
    for (let i = 0; i < 50; i++) log.report(refused);
    expect(lines).toEqual([
      { msg: 'queue ingest-next-batch: connect ECONNREFUSED 127.0.0.1:6379', source: 'queue ingest-next-batch', code: 'ECONNREFUSED' },
    ]);
    advance(30_000);
    log.report(refused);
    expect(lines[1]).toMatchObject({ repeatsSinceLastLine: 49 });
  });

  it('always logs a different message', () => {
    const { log, lines } = setup();
    log.report(refused);
    log.report(new Error('Missing lock for job 7'));
    log.report('not an error object');
    expect(lines.map((l) => l.msg)).toEqual([
      'queue ingest-next-batch: connect ECONNREFUSED 127.0.0.1:6379',
      'queue ingest-next-batch: Missing lock for job 7',
      'queue ingest-next-batch: not an error object',
    ]);
  });

  it('logs every one of many distinct messages', () => {
    const { log, lines } = setup();
    for (let i = 0; i < 1000; i++) log.report(new Error(`error ${i}`));
    expect(lines).toHaveLength(1000);
  });
});
