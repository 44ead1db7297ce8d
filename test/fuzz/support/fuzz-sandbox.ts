import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The directories of one generated case: a run's container dirs under DATA_DIR, and a host dir outside it. */
export interface FuzzCase {
  dataDir: string;
  /** DATA_DIR as the kernel sees it before the container ran: nothing read may resolve outside its run. */
  realRunDir: string;
  runId: string;
  roots: { in: string; out: string; files: string; host: string };
  /** The files dir relative to DATA_DIR: where published records say their files are. */
  filesStoragePath: string;
}

/**
 * A scratch root per spec file: DATA_DIR inside it, and one host directory per case beside it
 * (outside DATA_DIR) holding the canary files that symlinks point at.
 */
export class FuzzSandbox {
  private cases = 0;

  private constructor(readonly root: string) {}

  static async create(label: string): Promise<FuzzSandbox> {
    return new FuzzSandbox(await mkdtemp(path.join(os.tmpdir(), `osa-fuzz-${label}-`)));
  }

  /** A fresh DATA_DIR with an ingester attempt's dirs, and a host dir beside it. */
  async newCase(): Promise<FuzzCase> {
    const n = this.cases++;
    const dataDir = path.join(this.root, `data-${n}`);
    const runId = `run-${n}`;
    const base = path.join('runs', runId, 'b0', 'ingester', 'a1');
    const filesStoragePath = path.join(base, 'files');
    const roots = {
      in: path.join(dataDir, base, 'in'),
      out: path.join(dataDir, base, 'out'),
      files: path.join(dataDir, filesStoragePath),
      host: path.join(this.root, `host-${n}`),
    };
    await Promise.all(Object.values(roots).map((dir) => mkdir(dir, { recursive: true })));
    return { dataDir, realRunDir: await realpath(path.join(dataDir, 'runs', runId)), runId, roots, filesStoragePath };
  }

  async dispose(c: FuzzCase): Promise<void> {
    await rm(c.dataDir, { recursive: true, force: true });
    await rm(c.roots.host, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown } | { ok: 'hung' };

/**
 * Waits for `work` to settle, at most `deadlineMs`: a liveness bound, not a speed check. FIFOs
 * in `endless` are fed bytes without a newline for as long as they are read (a device that never
 * ends); after the deadline every FIFO is opened for writing and closed, so a reader blocked on
 * one returns and the blocked thread is given back before the next case.
 */
export async function settle<T>(work: Promise<T>, fifos: { blocking: string[]; endless: string[] }, deadlineMs: number): Promise<Settled<T>> {
  let done = false;
  const outcome = work.then(
    (value): Settled<T> => ({ ok: true, value }),
    (error: unknown): Settled<T> => ({ ok: false, error }),
  );
  void outcome.then(() => (done = true));
  const feeders = fifos.endless.map((fifo) => feed(fifo, () => done));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), deadlineMs)));
  const first = await Promise.race([outcome, deadline]);
  clearTimeout(timer);
  if (first !== 'hung') {
    done = true;
    await Promise.all(feeders);
    return first;
  }
  done = true;
  await Promise.all(feeders);
  // Release readers blocked in open() or read() so the work can finish before the next case.
  const release = setInterval(() => [...fifos.blocking, ...fifos.endless].forEach((f) => void unblock(f)), 50);
  await Promise.race([outcome, new Promise((r) => setTimeout(r, 30_000))]);
  clearInterval(release);
  return { ok: 'hung' };
}

async function unblock(fifo: string): Promise<void> {
  const handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined);
  await handle?.close();
}

async function feed(fifo: string, stop: () => boolean): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 'z');
  while (!stop()) {
    const handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined);
    if (!handle) {
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    try {
      while (!stop()) await handle.write(chunk).catch(() => new Promise((r) => setTimeout(r, 5)));
    } finally {
      await handle.close();
    }
  }
}
