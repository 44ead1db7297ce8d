import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

let sequence = 0;

/**
 * Containers running on this machine, counted across processes: each run holds a file named
 * `<pid>-<n>` in a shared directory; files of processes that died are not counted.
 */
export class LocalSlots {
  constructor(private readonly dir: string) {}

  async take(): Promise<{ release(): Promise<void> }> {
    await mkdir(this.dir, { recursive: true });
    const file = path.join(this.dir, `${process.pid}-${sequence++}`);
    await writeFile(file, '');
    return { release: () => rm(file, { force: true }) };
  }

  async busy(): Promise<number> {
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    let busy = 0;
    for (const entry of entries) {
      const pid = Number(entry.split('-')[0]);
      if (isAlive(pid)) busy++;
      else await rm(path.join(this.dir, entry), { force: true });
    }
    return busy;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
