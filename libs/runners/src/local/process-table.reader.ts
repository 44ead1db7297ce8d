import { readFileSync } from 'node:fs';
import { open, readdir, readFile } from 'node:fs/promises';

const PAGE_SIZE = 4096;
/** A process' environment is at most a few MiB (ARG_MAX); a bound keeps a hostile one from costing more. */
const MAX_ENVIRON_BYTES = 1024 * 1024;
const ENVIRON_CHUNK_BYTES = 64 * 1024;
/** How many /proc files are open at once while scanning. */
const SCAN_CONCURRENCY = 64;

/** One process as /proc describes it. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Process group id. */
  pgid: number;
  /** Session id. */
  sid: number;
  /** One-letter state; a zombie (Z) or dead (X) process holds no memory and no pipe and cannot be killed. */
  state: string;
  /** Start time in clock ticks after boot: with the pid, it names one process even after its pid is reused. */
  startTicks: number;
  rssBytes: number;
}

/** True for a process that has exited and only waits to be reaped by its parent. */
export function hasExited(info: Pick<ProcessInfo, 'state'>): boolean {
  return info.state === 'Z' || info.state === 'X';
}

/** Parses `/proc/<pid>/stat`; undefined when the text is not one. */
export function parseProcessStat(pid: number, text: string): ProcessInfo | undefined {
  // The command name (field 2) may itself contain spaces and parentheses: fields start after the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  const number = (index: number) => Number(fields[index]);
  // fields[0] is field 3 of proc(5): state, ppid, pgrp, session, …, starttime (22), vsize, rss (24).
  const info: ProcessInfo = {
    pid,
    state: fields[0] ?? '',
    ppid: number(1),
    pgid: number(2),
    sid: number(3),
    startTicks: number(19),
    rssBytes: number(21) * PAGE_SIZE,
  };
  const numeric = [info.ppid, info.pgid, info.sid, info.startTicks, info.rssBytes];
  return info.state.length === 1 && numeric.every(Number.isSafeInteger) ? info : undefined;
}

/** One process, read synchronously; undefined when it is gone or /proc is not there (not Linux). */
export function readProcessSync(pid: number): ProcessInfo | undefined {
  try {
    return parseProcessStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** One process; undefined when it is gone or /proc is not there (not Linux). */
export async function readProcess(pid: number): Promise<ProcessInfo | undefined> {
  try {
    return parseProcessStat(pid, await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Every process on the machine; empty where /proc is not there (not Linux). */
export async function readProcessTable(): Promise<ProcessInfo[]> {
  let entries: string[];
  try {
    entries = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
  const table: ProcessInfo[] = [];
  await forEachBounded(entries, async (entry) => {
    // Undefined when the process exited between readdir and readFile.
    const info = await readProcess(Number(entry));
    if (info) table.push(info);
  });
  return table;
}

/**
 * The value of one variable in a process' environment as it was given at exec, or undefined when
 * the process does not have it, is gone, or is not ours to read.
 */
export async function readEnvironValue(pid: number, name: string): Promise<string | undefined> {
  let environ: Buffer;
  try {
    const handle = await open(`/proc/${pid}/environ`, 'r');
    try {
      const chunks: Buffer[] = [];
      let length = 0;
      while (length < MAX_ENVIRON_BYTES) {
        const chunk = Buffer.alloc(Math.min(ENVIRON_CHUNK_BYTES, MAX_ENVIRON_BYTES - length));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
        if (bytesRead === 0) break;
        chunks.push(chunk.subarray(0, bytesRead));
        length += bytesRead;
      }
      environ = Buffer.concat(chunks, length);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
  const key = Buffer.from(`${name}=`);
  for (let at = environ.indexOf(key); at >= 0; at = environ.indexOf(key, at + 1)) {
    if (at > 0 && environ[at - 1] !== 0) continue;
    const end = environ.indexOf(0, at);
    return environ.subarray(at + key.length, end < 0 ? environ.length : end).toString('utf8');
  }
  return undefined;
}

/** Runs `work` for every item with at most SCAN_CONCURRENCY in flight. */
export async function forEachBounded<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(SCAN_CONCURRENCY, items.length) }, worker));
}
