import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { hasExited, readProcessSync } from './process-table.reader.js';

/**
 * Every process a local container starts inherits this variable. It outlives what a process
 * can leave behind (its parent, process group and session), so the container's processes are
 * found however they detached, and those of a service that died are found by the next one.
 */
export const CONTAINER_ID_ENV = 'OSA_CONTAINER_ID';

/** The process that supervises a container: a pid and its start time, so a reused pid is not mistaken for it. */
export interface ContainerOwner {
  pid: number;
  startTicks: number;
}

/** What a container id says about the container. */
export interface ContainerIdParts {
  /** Hash of the DATA_DIR the container belongs to (see {@link containerScope}). */
  scope: string;
  owner: ContainerOwner;
}

/** Scope of containers that belong to no DATA_DIR (e.g. the Kubernetes simulator's pods). */
export const UNSCOPED = '0'.repeat(16);

// osa1-<scope>-<owner pid>-<owner start ticks>-<random>: also a safe file name (slots are named by it).
const ID_PATTERN = /^osa1-([0-9a-f]{16})-([1-9]\d{0,9})-(\d{1,20})-[0-9a-f]{16}$/;

/** The scope of the containers run for one DATA_DIR: services sharing it can reap each other's orphans. */
export function containerScope(dataDir: string): string {
  return createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
}

let self: ContainerOwner | undefined;

/** This process as an owner of containers. */
export function thisProcess(): ContainerOwner {
  // Without /proc (not Linux) the start time is unknown (0): liveness then rests on the pid alone.
  self ??= { pid: process.pid, startTicks: readProcessSync(process.pid)?.startTicks ?? 0 };
  return self;
}

/** A new, unique container id owned by this process. */
export function newContainerId(scope: string): string {
  if (!/^[0-9a-f]{16}$/.test(scope)) throw new Error(`container scope must be 16 hex digits, got "${scope}"`);
  const owner = thisProcess();
  return `osa1-${scope}-${owner.pid}-${owner.startTicks}-${randomBytes(8).toString('hex')}`;
}

/** The parts of a container id, or undefined when `value` is not one (it comes from a process' environment). */
export function parseContainerId(value: string): ContainerIdParts | undefined {
  const match = ID_PATTERN.exec(value);
  if (!match) return undefined;
  const owner = { pid: Number(match[2]), startTicks: Number(match[3]) };
  if (!Number.isSafeInteger(owner.startTicks)) return undefined;
  return { scope: match[1]!, owner };
}

/** True when `owner` is this process. */
export function isThisProcess(owner: ContainerOwner): boolean {
  const me = thisProcess();
  return owner.pid === me.pid && owner.startTicks === me.startTicks;
}

/** True while the process that owns a container runs (a process with its pid and start time). */
export function isOwnerAlive(owner: ContainerOwner): boolean {
  if (isThisProcess(owner)) return true;
  const info = readProcessSync(owner.pid);
  if (info) return !hasExited(info) && (owner.startTicks === 0 || info.startTicks === owner.startTicks);
  if (owner.startTicks !== 0) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const supervised = new Set<string>();

/**
 * Containers this process is supervising right now. A container of this process that is not
 * among them was lost (its supervisor gave up killing it) and may be reaped.
 */
export const supervisedHere = {
  add: (id: string) => void supervised.add(id),
  delete: (id: string) => void supervised.delete(id),
  has: (id: string) => supervised.has(id),
};
