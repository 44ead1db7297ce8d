import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { waitFor } from '#osa/testing';
import { PipelineHarness, REPO_ROOT } from '../support/pipeline-harness.js';
import { fuzzIt } from './support/awaiting-fix.js';
import { boundedTime, fuzzParameters, fuzzTimeoutMs } from './support/fuzz-parameters.js';
import { hookCase, type HookCase, renderHookCase } from './support/hook-output.arbitraries.js';
import {
  type FilesRoot,
  ingesterCase,
  type IngesterCase,
  renderIngesterCase,
  type RenderedLine,
  type SessionForm,
} from './support/ingester-output.arbitraries.js';
import { countLines } from './support/jsonl-lines.js';
import { preview } from './support/postgres-storable.js';

const REPLAY = path.join(REPO_ROOT, 'test/fuzz/fixtures/replay-container.mjs');
type Behaviour = 'hang' | 'escape' | 'flood';

interface PipelineCase {
  batches: IngesterCase[];
  hook: HookCase;
}

/**
 * Properties that fail on the tree as it is, each with its smallest counterexample and the code
 * believed at fault; they run as soon as they are removed from here (or with FUZZ_PENDING=1).
 */
const AWAITING_FIX: Record<string, string> = {};

/**
 * Whole runs through the three stage services (local runner, real Redis and Postgres), with an
 * ingester and a hook that replay generated hostile output and misbehave as processes. Checked
 * in Postgres: the run completes; every ingester line and every hook line is accounted once;
 * every good record that its hook passed is published with its metadata and features; the host
 * canary is nowhere in the database nor in a published file; containers that hang or leave
 * children behind are ended.
 */
describe('whole runs on hostile container output (fuzz, local runner)', () => {
  const fuzz = fuzzIt(AWAITING_FIX);
  const token = `CANARY-${randomUUID()}`;
  let harness: PipelineHarness;
  let scratch: string;
  let conventions = 0;
  /** Where escaping children record their pids: read again at the end, even when a run never finished. */
  const pidDirs: string[] = [];

  beforeAll(async () => {
    harness = await PipelineHarness.start('fuzz_pipeline', { INGESTER_ATTEMPTS: '2', HOOK_ATTEMPTS: '2', LOCAL_RUNNER_SLOTS: '8' });
    scratch = await mkdtemp(path.join(os.tmpdir(), 'osa-fuzz-pipeline-'));
  });
  afterAll(async () => {
    // Children a container left behind that the runner did not end: ours to clean up.
    for (const dir of pidDirs) {
      for (const pid of await pidsIn(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    await harness?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  /** Registers a convention whose ingester and hook replay `scenario`, runs it and waits for the end. */
  async function run(scenario: object, limits: { ingester?: number; hook?: number } = {}, waitMs = 90_000) {
    const id = `fuzz-${conventions++}`;
    const file = path.join(scratch, `${id}.json`);
    await writeFile(file, JSON.stringify(scenario));
    const container = (role: string, timeout: number) => ({
      command: ['node', REPLAY, role],
      config: { scenario: file },
      limits: { timeout_seconds: timeout, memory: '1g' },
    });
    await harness.applyConvention({
      id,
      ingester: container('ingester', limits.ingester ?? 60),
      hooks: [{ name: 'fuzz', ...container('hook', limits.hook ?? 60) }],
    });
    const runId = await harness.runIdOf(await harness.startIngest({ conventionId: id }));
    return harness.waitForRun(runId, waitMs);
  }

  async function hostDir(): Promise<string> {
    const dir = path.join(scratch, `host-${randomUUID()}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async function check(spec: PipelineCase): Promise<void> {
    const host = await hostDir();
    const batches = spec.batches.map((b) => renderIngesterCase(b, { token, hostDir: host }));
    const good = (i: number) => (l: RenderedLine) => l.expect === 'good' && !(spec.batches[i]!.filesRoot !== 'own' && l.hasFiles);
    const goodIds = batches.flatMap((b, i) => b.lines.filter(good(i)).map((l) => l.sourceId!));
    const otherIds = batches.flatMap((b, i) => b.lines.filter((l) => !good(i)(l) && l.sourceId !== undefined).map((l) => l.sourceId!));
    const hook = renderHookCase(
      spec.hook,
      { token, hostDir: host },
      { planned: goodIds, passed: [...new Set(otherIds)].filter((id) => !goodIds.includes(id)) },
    );
    const done = await run({ roots: { host }, ingester: batches.map((b) => b.ops), hook: hook.ops });
    const db = harness.database.db;

    expect({ status: done.status, failure: done.failureReason }).toEqual({ status: 'completed', failure: null });
    const ledger = await harness.reads.batchRows(done.id);
    expect(ledger.filter((b) => b.state === 'failed').map((b) => `${b.batchIndex}: ${b.failureReason}`)).toEqual([]);

    // Ingester lines: every line written is a sourced record or an invalid one (this run's lines only).
    const written = batches.slice(0, ledger.length).reduce((sum, b) => sum + countLines(b.recordsBytes), 0);
    expect({ sourced: done.recordsSourced, invalid: done.invalidCount, lines: done.recordsSourced + done.invalidCount }).toEqual({
      sourced: done.recordsSourced,
      invalid: done.invalidCount,
      lines: written,
    });
    expect(done.publishedCount + done.rejectedCount + done.erroredCount).toBe(done.recordsSourced);
    for (const batch of ledger) {
      const c = batch.hookCounts.fuzz;
      if (!c) continue;
      expect({ batch: batch.batchIndex, records: c.passed + c.rejected + c.errored + c.missing }).toEqual({
        batch: batch.batchIndex,
        records: batch.recordCount,
      });
      const accounted = c.passed + c.rejected + c.errored + c.invalid;
      expect({
        batch: batch.batchIndex,
        counts: c,
        lines: hook.lines,
        withinAccounting: accounted >= hook.lines && accounted <= hook.lines + hook.refusedFiles,
      }).toEqual({
        batch: batch.batchIndex,
        counts: c,
        lines: hook.lines,
        withinAccounting: true,
      });
    }

    const published = await db.execute<{ source_id: string; metadata: unknown; files: Array<{ storage_path: string }>; features: unknown }>(
      sql`SELECT r.source_id, r.metadata, r.files, f.features FROM records r LEFT JOIN record_features f ON f.record_id = r.id AND f.hook = 'fuzz' WHERE r.run_id = ${done.id}`,
    );
    const byId = new Map(published.rows.map((r) => [r.source_id, r]));
    expect(byId.size).toBe(done.publishedCount);
    for (const [i, batch] of batches.entries()) {
      if (i >= ledger.length) break;
      for (const line of batch.lines) {
        if (line.expect !== 'good' || (spec.batches[i]!.filesRoot !== 'own' && line.hasFiles)) continue;
        const expectation = hook.expectations.get(line.sourceId!);
        if (expectation?.must !== 'passed') continue;
        const record = byId.get(line.sourceId!);
        expect({ id: line.sourceId, metadata: record?.metadata, features: record?.features }).toEqual({
          id: line.sourceId,
          metadata: line.metadata,
          features: expectation.features,
        });
      }
    }

    // A record its hook rejected, errored on, left without outcome or contradicted is not published.
    const unpublishable = [...hook.expectations].filter(([id, e]) => e.must !== 'passed' && e.must !== 'any' && byId.has(id));
    expect(unpublishable.map(([id, e]) => `${id} (${e.must})`)).toEqual([]);

    // Nothing from the host: not in any row this run wrote, nor in a published file.
    const rows = await db.execute<{ t: string }>(sql`
      SELECT row_to_json(x)::text AS t FROM ingest_runs x WHERE x.id = ${done.id}
      UNION ALL SELECT row_to_json(x)::text FROM ingest_batches x WHERE x.run_id = ${done.id}
      UNION ALL SELECT row_to_json(x)::text FROM record_issues x WHERE x.run_id = ${done.id}
      UNION ALL SELECT row_to_json(x)::text FROM records x WHERE x.run_id = ${done.id}
      UNION ALL SELECT row_to_json(f)::text FROM record_features f JOIN records r ON r.id = f.record_id WHERE r.run_id = ${done.id}
      UNION ALL SELECT row_to_json(x)::text FROM outbox_events x WHERE x.run_id = ${done.id}`);
    expect(rows.rows.filter((r) => r.t.includes(token)).map((r) => preview(r.t))).toEqual([]);
    const runDir = await realpath(path.join(harness.config.dataDir, 'runs', done.id));
    for (const record of published.rows) {
      for (const file of record.files) {
        const real = await realpath(path.join(harness.config.dataDir, file.storage_path));
        expect({ file: file.storage_path, inside: real.startsWith(runDir + path.sep) }).toEqual({ file: file.storage_path, inside: true });
        expect((await readFile(real, 'utf8')).includes(token)).toBe(false);
      }
    }
  }

  const sessions = fc.constantFrom<SessionForm>('absent', 'valid', 'symlink-host', 'invalid-json', 'unstorable', 'deep');

  fuzz(
    'publishes every good record and accounts every line of generated hostile output, end to end',
    () =>
      fc.assert(
        fc.asyncProperty(
          fc.record({
            batches: fc.array(ingesterCase(['malformed', 'duplicates', 'encoding', 'file-refs', 'unstorable'], { session: sessions }), {
              minLength: 1,
              maxLength: 2,
            }),
            hook: hookCase(['malformed', 'unstorable']),
          }),
          check,
        ),
        fuzzParameters(3101, 4, boundedTime(90_000)),
      ),
    fuzzTimeoutMs(150_000),
  );

  fuzz(
    'accounts every hook line end to end when the hook repeats or contradicts outcomes',
    () =>
      fc.assert(
        fc.asyncProperty(
          fc.record({
            batches: fc.array(ingesterCase(['malformed', 'duplicates']), { minLength: 1, maxLength: 2 }),
            hook: hookCase(['malformed', 'duplicates', 'conflicts']),
          }),
          check,
        ),
        fuzzParameters(3102, 4, boundedTime(90_000)),
      ),
    fuzzTimeoutMs(150_000),
  );

  fuzz(
    'publishes the good records of an ingester that replaced $OSA_FILES with a link',
    () =>
      fc.assert(
        fc.asyncProperty(
          fc.record({
            batches: fc.tuple(ingesterCase(['malformed', 'file-refs'], { filesRoot: fc.constantFrom<FilesRoot>('host-link', 'dangling-link') })),
            hook: hookCase(['malformed']),
          }),
          check,
        ),
        fuzzParameters(3103, 10, boundedTime(90_000)),
      ),
    fuzzTimeoutMs(150_000),
  );

  /** A scenario of plain good output with a misbehaving ingester or hook. */
  async function behaving(behaviour: Partial<Record<'ingester' | 'hook', Behaviour>>, limits: { ingester?: number; hook?: number } = {}) {
    const host = await hostDir();
    const pidDir = path.join(scratch, `pids-${randomUUID()}`);
    await mkdir(pidDir);
    pidDirs.push(pidDir);
    const line = (n: number) => JSON.stringify({ source_id: `rec-${n}`, metadata: { n } });
    const records = { op: 'write', path: 'out/records.jsonl', base64: Buffer.from(`${[0, 1, 2].map(line).join('\n')}\n`).toString('base64') };
    const features = {
      op: 'write',
      path: 'out/features.jsonl',
      base64: Buffer.from([0, 1, 2].map((n) => `${JSON.stringify({ id: `rec-${n}`, features: [n] })}\n`).join('')).toString('base64'),
    };
    // A run held by a container that never ends fails here, well inside the test's own timeout.
    const done = await run({ roots: { host }, ingester: [[records]], hook: [features], behaviour, pidDir }, limits, 30_000);
    return { done, pids: await pidsIn(pidDir) };
  }

  fuzz(
    'accounts an ingester and a hook that hang past their timeouts, writing nothing, as timed-out failures',
    async () => {
      const ingester = await behaving({ ingester: 'hang' }, { ingester: 1 });
      expect(ingester.done).toMatchObject({ status: 'completed', batchesFailed: 1, publishedCount: 0, failureKind: 'timeout' });
      const hook = await behaving({ hook: 'hang' }, { hook: 1 });
      expect(hook.done).toMatchObject({ status: 'completed', recordsSourced: 3, batchesFailed: 1, publishedCount: 0, failureKind: 'timeout' });
    },
    fuzzTimeoutMs(60_000),
  );

  fuzz(
    'ends containers that leave children in sessions of their own holding stdout, and the children with them',
    async () => {
      for (const role of ['ingester', 'hook'] as const) {
        const { done, pids } = await behaving({ [role]: 'escape' }, { [role]: 5 });
        expect({ role, status: done.status, published: done.publishedCount }).toEqual({ role, status: 'completed', published: 3 });
        expect(pids.length).toBeGreaterThan(0);
        await waitFor(`the ${role}'s escaped children ${pids.join(', ')} to be ended`, () => pids.every((pid) => !alive(pid)), { timeoutMs: 15_000 });
      }
    },
    fuzzTimeoutMs(90_000),
  );

  fuzz(
    'completes runs whose containers print 24 MiB to stdout',
    async () => {
      for (const role of ['ingester', 'hook'] as const) {
        const { done } = await behaving({ [role]: 'flood' });
        expect({ role, status: done.status, published: done.publishedCount }).toEqual({ role, status: 'completed', published: 3 });
      }
    },
    fuzzTimeoutMs(90_000),
  );
});

async function pidsIn(dir: string): Promise<number[]> {
  return (await readdir(dir).catch(() => [])).map((f) => Number(f.split('-').pop()));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
