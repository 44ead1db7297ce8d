import { existsSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { CONTAINER_ID_ENV } from './container-marker.js';
import { hasExited, type ProcessInfo, readEnvironValue, readProcess, readProcessTable } from './process-table.reader.js';

/** How long {@link ContainerProcesses.killAll} keeps killing before it reports survivors. */
const KILL_DEADLINE_MS = 5_000;
/** Rounds of "stop, look again" before a kill: each round catches the children forked meanwhile. */
const FREEZE_ROUNDS = 5;
/**
 * Every how many memory samples the whole process table is read. In between only the processes
 * already known are, a few files instead of hundreds: on a busy machine a full read takes tens of
 * milliseconds, long enough to miss a short burst of memory.
 */
const FULL_SCAN_EVERY = 5;

/** The first process of a container: its pid and start time (so a reused pid is not mistaken for it). */
export interface ContainerLeader {
  pid: number;
  startTicks: number;
}

/** What {@link ContainerProcesses.killAll} did. */
export interface KillReport {
  /** Distinct processes sent SIGKILL. */
  killed: number;
  /** Processes still alive when the deadline passed (0: the container is gone). */
  survivors: number;
}

/**
 * Every live process a container started, however it detached: it carries the container's id in
 * its environment, or it is in a process group or session the container made (setsid children
 * that cleared their environment), or its parent is one of them, or it was seen as one before
 * (and has the same start time). A process that clears its environment, leaves the session and
 * is reparented between two looks escapes; the supervisor looks often (with every memory
 * sample), which leaves that window small.
 */
export class ContainerProcesses {
  /** pid → start ticks of every member seen, so a member stays one after it detaches. */
  private readonly known = new Map<number, number>();
  /** pid → start ticks and whether its environment named the container (environments are read once). */
  private readonly marked = new Map<number, { startTicks: number; member: boolean }>();
  /** Memory samples taken, to read the whole process table on every FULL_SCAN_EVERY-th. */
  private samples = 0;

  /**
   * @param containerId the value of the container's id variable.
   * @param leader the container's first process, when known (not for the orphans of a dead service).
   */
  constructor(
    private readonly containerId: string,
    private readonly leader?: ContainerLeader,
  ) {}

  /** Resident memory of the container's processes, in bytes (see {@link FULL_SCAN_EVERY}). */
  async residentBytes(): Promise<number> {
    const sum = (processes: (ProcessInfo | undefined)[]) => processes.reduce((total, p) => total + (p?.rssBytes ?? 0), 0);
    if (this.samples++ % FULL_SCAN_EVERY === 0) return sum(await this.scan());
    const known = await Promise.all(
      [...this.known].map(async ([pid, startTicks]) => {
        const p = await readProcess(pid);
        return p?.startTicks === startTicks && !hasExited(p) ? p : undefined;
      }),
    );
    return sum(known);
  }

  /** The container's live processes (exited ones excluded), with their resident memory. */
  async scan(): Promise<ProcessInfo[]> {
    const table = await readProcessTable();
    const byPid = new Map(table.map((p) => [p.pid, p]));
    const members = new Map<number, ProcessInfo>();
    // Ids of process groups and sessions the container made. The kernel does not hand out a pid
    // while it still names a group or session, so a match is always the container's.
    const groups = new Set<number>();
    const add = (p: ProcessInfo) => {
      members.set(p.pid, p);
      this.known.set(p.pid, p.startTicks);
      groups.add(p.pgid).add(p.sid);
    };

    if (this.leader) {
      const current = byPid.get(this.leader.pid);
      // The leader's group and session carry its pid; unless that pid now names another process.
      if (!current || current.startTicks === this.leader.startTicks) groups.add(this.leader.pid);
    }
    for (const [pid, startTicks] of this.known) {
      const p = byPid.get(pid);
      if (p?.startTicks === startTicks && !hasExited(p)) add(p);
      else this.known.delete(pid);
    }
    for (const [pid, verdict] of this.marked) if (byPid.get(pid)?.startTicks !== verdict.startTicks) this.marked.delete(pid);

    const candidates = table.filter(
      (p) =>
        !members.has(p.pid) &&
        !hasExited(p) &&
        p.pid !== process.pid &&
        // A process that started before the container cannot be one of its descendants.
        (!this.leader || p.startTicks >= this.leader.startTicks),
    );
    await Promise.all(candidates.map((p) => this.isMarked(p).then((member) => member && add(p))));

    for (let grew = true; grew;) {
      grew = false;
      for (const p of candidates) {
        if (members.has(p.pid)) continue;
        if (groups.has(p.pgid) || groups.has(p.sid) || members.has(p.ppid)) {
          add(p);
          grew = true;
        }
      }
    }
    return [...members.values()];
  }

  /**
   * Kills every process of the container, reliably: each round stops them all (SIGSTOP cannot be
   * ignored, and a stopped process cannot fork one we did not see), looks again until nothing new
   * appears, then sends SIGKILL; until a look finds none, or the deadline passes.
   */
  async killAll(): Promise<KillReport> {
    const killed = new Set<string>();
    // Where /proc is not there (not Linux), the process group is all that can be found.
    if (this.leader && !existsSync('/proc/self/stat')) signal(this.leader.pid, 'SIGKILL', -1);
    const deadline = Date.now() + KILL_DEADLINE_MS;
    for (let round = 1; ; round++) {
      let members = await this.scan();
      if (members.length === 0 || Date.now() > deadline) return { killed: killed.size, survivors: members.length };
      const stopped = new Set<number>();
      for (let freeze = 0; freeze < FREEZE_ROUNDS; freeze++) {
        const fresh = members.filter((p) => !stopped.has(p.pid));
        if (fresh.length === 0) break;
        for (const p of fresh) {
          signal(p.pid, 'SIGSTOP');
          stopped.add(p.pid);
        }
        members = await this.scan();
      }
      for (const p of members) {
        signal(p.pid, 'SIGKILL');
        killed.add(`${p.pid}:${p.startTicks}`);
      }
      // The kernel tears a killed process down asynchronously: give it a moment before looking.
      await delay(Math.min(10 * round, 100));
    }
  }

  /**
   * SIGKILL to every process seen as a member so far, synchronously: for a service that is
   * exiting and cannot wait for {@link killAll}. What it misses, the next service's reaping finds.
   */
  killKnownNow(): void {
    if (this.leader) signal(this.leader.pid, 'SIGKILL');
    for (const pid of this.known.keys()) signal(pid, 'SIGKILL');
  }

  private async isMarked(p: ProcessInfo): Promise<boolean> {
    const cached = this.marked.get(p.pid);
    if (cached?.startTicks === p.startTicks) return cached.member;
    const member = (await readEnvironValue(p.pid, CONTAINER_ID_ENV)) === this.containerId;
    this.marked.set(p.pid, { startTicks: p.startTicks, member });
    return member;
  }
}

function signal(pid: number, name: NodeJS.Signals, sign: 1 | -1 = 1): void {
  try {
    process.kill(sign * pid, name);
  } catch {
    // Already gone.
  }
}
