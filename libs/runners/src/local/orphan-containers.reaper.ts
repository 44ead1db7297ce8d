import { CONTAINER_ID_ENV, isOwnerAlive, isThisProcess, parseContainerId, supervisedHere } from './container-marker.js';
import { ContainerProcesses } from './container-processes.js';
import { forEachBounded, hasExited, readEnvironValue, readProcessTable } from './process-table.reader.js';

/** What a reaping found and did. */
export interface ReapReport {
  /** Containers whose supervisor was gone. */
  containers: number;
  /** Processes of theirs that were killed. */
  killed: number;
  /** Processes that were still alive when the bounded kill gave up. */
  survivors: number;
}

/**
 * True when nobody supervises the container any more: its owning service died (a SIGKILL, an OOM
 * kill, a crash), or it is this process' but its supervisor gave up on it.
 */
export function isOrphan(containerId: string): boolean {
  const parts = parseContainerId(containerId);
  if (!parts) return false;
  if (isThisProcess(parts.owner)) return !supervisedHere.has(containerId);
  return !isOwnerAlive(parts.owner);
}

/** Kills every process of a container whose supervisor is gone. */
export async function reapContainer(containerId: string): Promise<ReapReport> {
  const { killed, survivors } = await new ContainerProcesses(containerId).killAll();
  return { containers: 1, killed, survivors };
}

/**
 * Finds the containers of one DATA_DIR scope that nobody supervises any more and kills them, so
 * a restarted service does not run a second copy next to the one its previous incarnation left.
 */
export async function reapOrphanContainers(scope: string): Promise<ReapReport> {
  const orphans = new Set<string>();
  const table = (await readProcessTable()).filter((p) => !hasExited(p) && p.pid !== process.pid);
  await forEachBounded(table, async (p) => {
    const id = await readEnvironValue(p.pid, CONTAINER_ID_ENV);
    if (id !== undefined && parseContainerId(id)?.scope === scope && isOrphan(id)) orphans.add(id);
  });
  const report: ReapReport = { containers: 0, killed: 0, survivors: 0 };
  for (const id of orphans) {
    const reaped = await reapContainer(id);
    report.containers += reaped.containers;
    report.killed += reaped.killed;
    report.survivors += reaped.survivors;
  }
  return report;
}
