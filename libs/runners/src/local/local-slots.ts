import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseContainerId } from './container-marker.js';
import { isOrphan, reapContainer } from './orphan-containers.reaper.js';

/**
 * Containers running on this machine, counted across processes: each run holds a file named by
 * its container id (which names the owning service) in a shared directory. A slot whose service
 * died is freed, after the container it held is killed (it would still use the machine).
 */
export class LocalSlots {
  constructor(private readonly dir: string) {}

  async take(containerId: string): Promise<{ release(): Promise<void> }> {
    if (!parseContainerId(containerId)) throw new Error(`not a container id: "${containerId}"`);
    await mkdir(this.dir, { recursive: true });
    const file = path.join(this.dir, containerId);
    await writeFile(file, '', { flag: 'wx' });
    return { release: () => rm(file, { force: true }) };
  }

  /** Slots held by live services; frees the others, after killing the container each held. */
  async busy(): Promise<number> {
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    let busy = 0;
    for (const entry of entries) {
      if (!parseContainerId(entry)) {
        // Not a slot (or one of an older version, `<pid>-<n>`): it holds nothing we could count.
        await rm(path.join(this.dir, entry), { force: true, recursive: true });
      } else if (isOrphan(entry)) {
        await reapContainer(entry);
        await rm(path.join(this.dir, entry), { force: true });
      } else {
        busy++;
      }
    }
    return busy;
  }
}
