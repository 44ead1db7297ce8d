import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type SupervisedExit, superviseProcess } from '#osa/runners';
import { parseMemoryQuantity } from '#osa/runners-kubernetes';
import type { Obj } from './k8s-objects.js';

export interface ExecuteOptions {
  pod: Obj;
  argv: readonly string[];
  /** Local directory standing in for the data PVC. */
  dataRoot: string;
  pvcName: string;
  cwd: string;
  logFile: string;
  signal: AbortSignal;
  sampleIntervalMs?: number;
}

/**
 * "Runs" a pod's first container as a local child process (argv, no shell): volume mounts map
 * onto local directories (`<dataRoot>/<subPath>` for the data PVC, a temp dir per emptyDir),
 * env values naming a mount path are rewritten to the local directory, and the memory limit is
 * enforced by the same supervisor as the local runner (killed like the OOM killer, exit 137).
 */
export async function executePod(options: ExecuteOptions): Promise<SupervisedExit> {
  const spec = options.pod.spec;
  const container = spec.containers[0];
  const roots = new Map<string, string>();
  for (const volume of (spec.volumes ?? []) as Obj[]) {
    if (volume.persistentVolumeClaim?.claimName === options.pvcName) roots.set(volume.name, options.dataRoot);
    else if (volume.emptyDir) roots.set(volume.name, await mkdtemp(path.join(tmpdir(), `k8s-sim-${volume.name}-`)));
  }
  const mounts: { mountPath: string; local: string }[] = [];
  for (const mount of (container.volumeMounts ?? []) as Obj[]) {
    const root = roots.get(mount.name);
    if (!root) continue;
    const local = path.join(root, mount.subPath ?? '');
    // The kubelet creates a missing sub-path too.
    await mkdir(local, { recursive: true });
    mounts.push({ mountPath: mount.mountPath, local });
  }
  mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);
  const mapPath = (value: string) => {
    const m = mounts.find((x) => value === x.mountPath || value.startsWith(`${x.mountPath}/`));
    return m ? m.local + value.slice(m.mountPath.length) : value;
  };

  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: mapPath('/tmp') };
  for (const e of (container.env ?? []) as Obj[]) env[e.name] = mapPath(String(e.value ?? ''));
  const memory = container.resources?.limits?.memory;
  return superviseProcess({
    // argv is a host command the test mapped to the image: rewriting it would break a host path
    // that happens to start like a mount (a checkout under /tmp, where hook pods mount /tmp).
    command: options.argv,
    env,
    cwd: options.cwd,
    // activeDeadlineSeconds is the Job controller's business: it aborts through the signal.
    timeoutMs: 24 * 3600 * 1000,
    memoryBytes: (memory && parseMemoryQuantity(memory)) || Number.MAX_SAFE_INTEGER,
    signal: options.signal,
    logLines: 1000,
    logFile: options.logFile,
    sampleIntervalMs: options.sampleIntervalMs,
  });
}
