import { access, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerDirs } from '#osa/domain';
import type { ContainerRole } from '../port/container-runner.port.js';

/**
 * Makes a finished Job's output appear in the caller's directories when the Job was started by
 * an earlier attempt (a worker that died or lost its lock): its out (and, for ingesters, files)
 * directory is renamed into this attempt's place. Rename is atomic on the shared volume, and it
 * only happens after the Job succeeded, so the output moved is complete. Returns false when the
 * source is gone (another attempt adopted it already): the Job's output cannot be reused.
 * `dryRun` only checks that the output is there.
 */
export async function adoptOutput(
  dataRoot: string,
  role: ContainerRole,
  from: ContainerDirs,
  to: ContainerDirs,
  { dryRun = false }: { dryRun?: boolean } = {},
): Promise<boolean> {
  const keys: (keyof ContainerDirs)[] = role === 'ingester' ? ['out', 'files'] : ['out'];
  const moves = keys.filter((k) => path.normalize(from[k]) !== path.normalize(to[k]));
  for (const key of moves) {
    if (!(await exists(path.join(dataRoot, from[key])))) return false;
  }
  if (dryRun) return true;
  for (const key of moves) {
    const target = path.join(dataRoot, to[key]);
    // This attempt started no container, so its own directory holds nothing worth keeping.
    await rm(target, { recursive: true, force: true });
    await mkdir(path.dirname(target), { recursive: true });
    await rename(path.join(dataRoot, from[key]), target);
  }
  return true;
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Turns request dirs (relative to DATA_DIR, or absolute under it) into PVC sub-paths; a path
 * outside the volume cannot be mounted, so it is rejected here rather than by the kubelet.
 */
export function toSubPath(dataRoot: string, dir: string): string | undefined {
  const rel = path.isAbsolute(dir) ? path.relative(dataRoot, dir) : path.normalize(dir);
  if (rel === '' || rel === '.' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}
