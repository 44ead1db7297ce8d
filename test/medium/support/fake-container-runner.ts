import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CapacityReport, ContainerRunner, ContainerRunRequest, ContainerRunResult } from '#osa/runners';
import { exitError } from '#osa/runners';

/** The container's directories, absolute: what `$OSA_IN`, `$OSA_OUT` and `$OSA_FILES` name. */
export interface ContainerView {
  in: string;
  out: string;
  files: string;
}

/** What one container does: write its output files, or throw as the runner would for a failure. */
export type ContainerScript = (request: ContainerRunRequest, view: ContainerView) => Promise<void>;

/**
 * An in-memory ContainerRunner: each container is a function that writes the output files a
 * real container would write into its directories under DATA_DIR. Every request is recorded.
 */
export class FakeContainerRunner implements ContainerRunner {
  readonly requests: ContainerRunRequest[] = [];
  capacityReport: CapacityReport = { available: true };
  ingester: ContainerScript = pagedIngester({ total: 10, pageSize: 10 });
  readonly hooks = new Map<string, ContainerScript>();

  constructor(private readonly dataDir: string) {}

  async run(request: ContainerRunRequest): Promise<ContainerRunResult> {
    this.requests.push(request);
    const view = {
      in: path.join(this.dataDir, request.dirs.in),
      out: path.join(this.dataDir, request.dirs.out),
      files: path.join(this.dataDir, request.dirs.files),
    };
    await mkdir(view.out, { recursive: true });
    if (request.role === 'ingester') await mkdir(view.files, { recursive: true });
    const script = request.role === 'ingester' ? this.ingester : this.hooks.get(request.hook!);
    if (!script) throw new Error(`no script for hook "${request.hook}"`);
    await script(request, view);
    return { exitCode: 0, logTail: [], durationMs: 0, reused: false };
  }

  capacity(): Promise<CapacityReport> {
    return Promise.resolve(this.capacityReport);
  }

  /** How many containers ran for a role (and hook). */
  count(role: 'ingester' | 'hook', hook?: string): number {
    return this.requests.filter((r) => r.role === role && (hook === undefined || r.hook === hook)).length;
  }
}

const readJson = async (file: string): Promise<unknown> => {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
};

/**
 * An ingester serving `total` records in pages from `session.offset`, like an upstream API: a
 * record `rec-<n>`, flagged `reject` when `rejectEvery` divides n; a session while more remains.
 */
export function pagedIngester({ total, pageSize, rejectEvery }: { total: number; pageSize: number; rejectEvery?: number }): ContainerScript {
  return async (request, view) => {
    const session = ((await readJson(path.join(view.in, 'session.json'))) ?? { offset: 0 }) as { offset: number };
    const end = Math.min(total, session.offset + Math.min(pageSize, Number(request.env.OSA_LIMIT)));
    const lines: string[] = [];
    for (let n = session.offset; n < end; n++) {
      lines.push(JSON.stringify({ source_id: `rec-${n}`, metadata: { n, reject: rejectEvery !== undefined && n % rejectEvery === 0 }, files: [] }));
    }
    await writeFile(path.join(view.out, 'records.jsonl'), lines.map((l) => `${l}\n`).join(''));
    if (end < total) await writeFile(path.join(view.out, 'session.json'), JSON.stringify({ offset: end }));
  };
}

/** A hook that rejects records flagged `reject` and passes the rest with one feature. */
export function flagHook(): ContainerScript {
  return async (_request, view) => {
    const features: string[] = [];
    const rejections: string[] = [];
    for (const line of (await readFile(path.join(view.in, 'records.jsonl'), 'utf8')).split('\n')) {
      if (!line.trim()) continue;
      const record = JSON.parse(line) as { id: string; metadata: { n: number; reject: boolean } };
      if (record.metadata.reject) rejections.push(JSON.stringify({ id: record.id, reason: `record ${record.metadata.n} is flagged` }));
      else features.push(JSON.stringify({ id: record.id, features: [{ n2: record.metadata.n * 2 }] }));
    }
    await writeFile(path.join(view.out, 'features.jsonl'), features.map((l) => `${l}\n`).join(''));
    await writeFile(path.join(view.out, 'rejections.jsonl'), rejections.map((l) => `${l}\n`).join(''));
  };
}

/** A container that exits with `code`, classified as every runner classifies a non-zero exit. */
export function exitingContainer(code: number, logTail = [`exiting with ${code}`]): ContainerScript {
  return (request) => Promise.reject(exitError(request, code, logTail));
}
