import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseProcessStat, readEnvironValue, readProcessSync, readProcessTable } from './process-table.reader.js';

describe('process table reader', () => {
  describe(parseProcessStat.name, () => {
    it('reads the fields after a command name that contains spaces and parentheses', () => {
      const stat = '4242 (a) b (c)) S 1 4240 4239 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 98765 1000 25 18446744073709551615';
      expect(parseProcessStat(4242, stat)).toEqual({ pid: 4242, state: 'S', ppid: 1, pgid: 4240, sid: 4239, startTicks: 98765, rssBytes: 25 * 4096 });
    });

    it('refuses text that is not a stat line', () => {
      expect(parseProcessStat(1, 'no parenthesis here')).toBeUndefined();
      expect(parseProcessStat(1, '1 (x) S one two')).toBeUndefined();
    });
  });

  it('finds this process in the table, with the start time read on its own', async () => {
    const table = await readProcessTable();
    expect(table.find((p) => p.pid === process.pid)).toMatchObject({ pid: process.pid, startTicks: readProcessSync(process.pid)!.startTicks });
  });

  describe(readEnvironValue.name, () => {
    it('reads one variable of a running process, not one whose name merely ends the same', async () => {
      const child = spawn('sleep', ['30'], { env: { XOSA_MARK: 'wrong', OSA_MARK: 'right', PATH: process.env.PATH! } });
      await once(child, 'spawn');
      try {
        expect(await readEnvironValue(child.pid!, 'OSA_MARK')).toBe('right');
        expect(await readEnvironValue(child.pid!, 'MARK')).toBeUndefined();
      } finally {
        child.kill('SIGKILL');
      }
    });

    it('answers undefined for a process that does not exist', async () => {
      expect(await readEnvironValue(2 ** 30, 'PATH')).toBeUndefined();
    });
  });
});
