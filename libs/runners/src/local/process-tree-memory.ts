import { readdir, readFile } from 'node:fs/promises';

const PAGE_SIZE = 4096;

/**
 * Resident memory of every process in a process group, in bytes, read from /proc.
 * The supervised command runs in its own group, so children it forks are counted too,
 * as the kernel's cgroup accounting would count them.
 */
export async function processGroupRss(pgid: number): Promise<number> {
  let total = 0;
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return 0;
  }
  await Promise.all(
    entries.map(async (entry) => {
      if (!/^\d+$/.test(entry)) return;
      try {
        const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
        // Fields after the command name, which may itself contain spaces and parentheses.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[2]) === pgid) total += Number(fields[21]) * PAGE_SIZE;
      } catch {
        // The process exited between readdir and readFile.
      }
    }),
  );
  return total;
}
