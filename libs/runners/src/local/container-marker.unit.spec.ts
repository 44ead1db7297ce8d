import { containerScope, isOwnerAlive, newContainerId, parseContainerId, thisProcess } from './container-marker.js';

describe('container marker', () => {
  describe(parseContainerId.name, () => {
    it('reads the scope and owner back from a new id', () => {
      const scope = containerScope('/data');
      expect(parseContainerId(newContainerId(scope))).toEqual({ scope, owner: thisProcess() });
    });

    it.each(['', 'osa1', '../../etc/passwd', `osa1-${'a'.repeat(16)}-0-1-${'b'.repeat(16)}`, `osa1-${'a'.repeat(16)}-12-1-${'b'.repeat(16)}/x`])(
      'refuses %j',
      (value) => expect(parseContainerId(value)).toBeUndefined(),
    );
  });

  it('refuses a scope that is not one', () => {
    expect(() => newContainerId('../x')).toThrow('container scope must be 16 hex digits, got "../x"');
  });

  describe(isOwnerAlive.name, () => {
    it('knows this process, and not a process that reuses a pid with another start time', () => {
      expect(isOwnerAlive(thisProcess())).toBe(true);
      expect(isOwnerAlive({ pid: process.ppid, startTicks: 1 })).toBe(false);
    });
  });
});
