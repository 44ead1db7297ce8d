import { ErrorKind } from './error-kind.js';
import { describeFailure } from './failure.js';
import { PermanentError } from './permanent.error.js';

describe(describeFailure.name, () => {
  it("keeps a classified failure's message and the container's last lines, bounded and storable in Postgres", () => {
    const lines = Array.from({ length: 80 }, (_, i) => `line ${i}`);
    lines.push(`binary \u0000 and a half pair \ud800 ${'x'.repeat(1000)}`);
    const failure = describeFailure(new PermanentError(`hook "h" exited with code 2 \u0000 ${'r'.repeat(5000)}`, ErrorKind.HookExit, lines));
    expect(failure.kind).toBe(ErrorKind.HookExit);
    expect(failure.reason).toHaveLength(2000);
    expect(failure.reason).toMatch(/^hook "h" exited with code 2 \ufffd r+…$/);
    expect(failure.logTail).toHaveLength(50);
    expect(failure.logTail[0]).toBe('line 31');
    expect(failure.logTail.at(-1)).toMatch(/^binary \ufffd and a half pair \ufffd x+…$/);
    expect(failure.logTail.at(-1)).toHaveLength(500);
  });

  it("keeps an unexpected error's name and message, with no stack", () => {
    expect(describeFailure(new TypeError('x is undefined'))).toEqual({
      kind: ErrorKind.Unexpected,
      reason: 'TypeError: x is undefined',
      logTail: [],
    });
  });
});
