import { randomUUID } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { OOMError, validateConvention } from '#osa/domain';
import { ConventionRepository, RunLedger, RunReadModel } from '#osa/persistence';
import { type JobProducer, RunHooksService } from '#osa/pipeline';
import type { ContainerRunner, ContainerRunRequest } from '#osa/runners';
import { BatchLayout } from '#osa/storage';
import { createTestDatabase, type TestDatabase } from '#osa/testing';
import { applyFsOps } from './fixtures/apply-fs-ops.mjs';
import { fuzzIt } from './support/awaiting-fix.js';
import { boundedTime, fuzzParameters, fuzzTimeoutMs } from './support/fuzz-parameters.js';
import { FuzzSandbox, settle } from './support/fuzz-sandbox.js';
import {
  hookCase,
  type HookCase,
  type HookOutputForm,
  OUTCOME_FILES,
  renderHookCase,
  type RenderedHookOutput,
} from './support/hook-output.arbitraries.js';
import { fileLines } from './support/jsonl-lines.js';
import { PostgresStorable, preview } from './support/postgres-storable.js';

/** A liveness bound for one case (a FIFO must not hang the reader), not a speed check. */
const DEADLINE_MS = 10_000;
const HOOK = 'fuzz';
const OOM_POLICY = { memoryCeilingBytes: 8 * 1024 ** 3, retries: 3, maxBisectRuns: 64 };

/**
 * Properties that fail on the tree as it is, each with its smallest counterexample and the code
 * believed at fault; they run as soon as they are removed from here (or with FUZZ_PENDING=1).
 */
const AWAITING_FIX: Record<string, string> = {};

/**
 * A hook's output as the hook stage takes it in: RunHooksService runs the hook (a runner that
 * writes the generated output where the container would), absorbs the output into its
 * checkpoint, merges what passed and records counts and issues in the real ledger. Invariants:
 * the step never throws; each record has exactly one outcome (passed + rejected + errored +
 * missing = records); every line is accounted once (passed + rejected + errored + invalid =
 * lines written, plus at most one issue per refused output file); a record with conflicting
 * outcomes is not published; every good outcome is kept; what passes can be stored by Postgres;
 * the host canary never shows up.
 */
describe('the hook stage under hostile hook output (fuzz)', () => {
  const fuzz = fuzzIt(AWAITING_FIX);
  const token = `CANARY-${randomUUID()}`;
  let sandbox: FuzzSandbox;
  let storable: PostgresStorable;
  let database: TestDatabase;
  let ledger: RunLedger;

  beforeAll(async () => {
    sandbox = await FuzzSandbox.create('hooks');
    storable = await PostgresStorable.connect();
    database = await createTestDatabase('fuzz_hooks');
    ledger = new RunLedger(database.db);
  });
  afterAll(async () => {
    await storable?.close();
    await database?.drop();
    await sandbox?.close();
  });

  /** A sourced batch of `ids` in the ledger and on disk, as the ingester stage leaves it. */
  async function sourcedBatch(dataDir: string, ids: readonly string[]): Promise<string> {
    const runId = randomUUID();
    const convention = validateConvention({ id: `fuzz-${runId.slice(0, 8)}`, hooks: [{ name: HOOK, command: ['replayed-in-process'] }] });
    await new ConventionRepository().upsert(database.db, convention);
    await ledger.createRun({
      id: runId,
      conventionId: convention.id,
      startJobId: runId,
      convention,
      batchSize: Math.max(1, ids.length),
      recordLimit: null,
    });
    const write = async (file: string, lines: string[]) => {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, lines.map((l) => `${l}\n`).join(''));
    };
    await write(
      path.join(dataDir, BatchLayout.batchFile(runId, 0, 1)),
      ids.map((id, n) => JSON.stringify({ id, metadata: { n }, files: [] })),
    );
    await write(
      path.join(dataDir, BatchLayout.hookInputFile(runId, 0, 1)),
      ids.map((id, n) => JSON.stringify({ id, metadata: { n }, size_hint_mb: 0 })),
    );
    await ledger.recordSourced({
      runId,
      batchIndex: 0,
      ingesterAttempt: 1,
      recordCount: ids.length,
      invalidCount: 0,
      hasMore: false,
      nextSession: null,
      finishIngestion: true,
    });
    return runId;
  }

  /**
   * Writes the generated output where the container's $OSA_OUT is, instead of running a process.
   * With `killAt`, the first run is killed for memory after writing that share of each outcome
   * file (its last line may be cut short); the runs after it write the whole output.
   */
  function replayingRunner(dataDir: string, hostDir: string, rendered: RenderedHookOutput, killAt?: number): ContainerRunner {
    let runs = 0;
    return {
      capacity: () => Promise.resolve({ available: true }),
      async run(request: ContainerRunRequest) {
        const roots = {
          in: path.join(dataDir, request.dirs.in),
          out: path.join(dataDir, request.dirs.out),
          files: path.join(dataDir, request.dirs.files),
          host: hostDir,
        };
        await mkdir(roots.out, { recursive: true });
        await applyFsOps(roots, rendered.ops);
        if (killAt !== undefined && runs++ === 0) {
          for (const file of OUTCOME_FILES) {
            const at = path.join(roots.out, `${file}.jsonl`);
            const info = await lstat(at).catch(() => undefined);
            if (info?.isFile()) await truncate(at, Math.floor(info.size * killAt));
          }
          throw new OOMError('killed for memory by the fuzz runner', request.memoryBytes ?? 0);
        }
        return { exitCode: 0, logTail: [], durationMs: 0, reused: false };
      },
    };
  }

  async function check(spec: HookCase, { deadlineMs = DEADLINE_MS, killAt }: { deadlineMs?: number; killAt?: number } = {}): Promise<void> {
    const c = await sandbox.newCase();
    try {
      const rendered = renderHookCase(spec, { token, hostDir: c.roots.host });
      const runId = await sourcedBatch(c.dataDir, rendered.ids);
      const producer = { hooksCompleted: () => Promise.resolve() } as unknown as JobProducer;
      const service = new RunHooksService(ledger, replayingRunner(c.dataDir, c.roots.host, rendered, killAt), producer, c.dataDir, OOM_POLICY);
      const out = path.join(c.dataDir, BatchLayout.hooksAttempt(runId, 0, 1), HOOK, 's0', 'out');
      const fifos = OUTCOME_FILES.filter((f) => spec.forms[f] === 'fifo').map((f) => path.join(out, `${f}.jsonl`));
      const outcome = await settle(service.runHooks({ data: { runId, batchIndex: 0 }, attempt: 1 }), { blocking: fifos, endless: [] }, deadlineMs);
      if (outcome.ok === 'hung') throw new Error(`the hook stage did not settle within ${deadlineMs} ms (${JSON.stringify(spec.forms)})`);
      if (!outcome.ok)
        throw new Error(`the hook stage threw instead of accounting the bad output: ${String((outcome.error as Error)?.stack ?? outcome.error)}`);

      const batch = (await ledger.findBatch(runId, 0))!;
      expect(batch.state).toBe('hooked');
      const counts = batch.hookCounts[HOOK]!;
      const n = rendered.ids.length;
      expect({ records: counts.passed + counts.rejected + counts.errored + counts.missing }).toEqual({ records: n });
      const accounted = counts.passed + counts.rejected + counts.errored + counts.invalid;
      // Every line once; a refused output file (a link, a FIFO, …) may add one issue of its own.
      // A killed hook's lines are read once per run, so only whole runs are counted by line.
      if (killAt === undefined)
        expect({
          counts,
          linesWritten: rendered.lines,
          withinAccounting: accounted >= rendered.lines && accounted <= rendered.lines + rendered.refusedFiles,
        }).toEqual({
          counts,
          linesWritten: rendered.lines,
          withinAccounting: true,
        });

      const passedLines = await fileLines(path.join(c.dataDir, BatchLayout.passedFile(runId, 0, 1)));
      const passed = new Map(
        passedLines.map((l) => {
          const r = JSON.parse(l) as { source_id: string; features: Record<string, unknown> };
          return [r.source_id, r.features[HOOK]] as const;
        }),
      );
      expect({ passed: passed.size, ledger: counts.passed }).toEqual({ passed: counts.passed, ledger: counts.passed });
      expect(batch.recordCount).toBe(passed.size + batch.rejectedCount + batch.erroredCount);
      // Collected first: one expect per record would dominate a 160,000-record case.
      const unmet: unknown[] = [];
      for (const [id, expectation] of rendered.expectations) {
        if (expectation.must === 'any' || (killAt !== undefined && expectation.must === 'not-passed' && expectation.conflict)) continue;
        if (expectation.must === 'passed' ? !isDeepStrictEqual(passed.get(id), expectation.features) : passed.has(id)) {
          unmet.push({ id, must: expectation.must, published: passed.has(id), features: passed.get(id) });
        }
      }
      expect(unmet.slice(0, 20)).toEqual([]);
      expect(await storable.refusedJson(passedLines)).toEqual([]);
      const issues = await new RunReadModel(database.db).listIssues(runId, { limit: 100_000 }).then((p) => p.items);
      const checkpointDir = path.join(c.dataDir, BatchLayout.batch(runId, 0), 'hooks', 'checkpoint');
      const checkpointText = await readTree(checkpointDir);
      const seen = [passedLines.join('\n'), JSON.stringify(issues), JSON.stringify(batch), checkpointText];
      expect(seen.filter((t) => t.includes(token)).map((t) => preview(t))).toEqual([]);
    } finally {
      await sandbox.dispose(c);
    }
  }

  const property = (arbitrary: fc.Arbitrary<HookCase>) => fc.asyncProperty(arbitrary, (spec) => check(spec));

  fuzz(
    'accounts malformed, mistyped and unknown-id outcome lines once and keeps every good outcome',
    () => fc.assert(property(hookCase(['malformed'])), fuzzParameters(2101, 30)),
    fuzzTimeoutMs(60_000),
  );

  fuzz(
    'keeps what a hook killed for memory finished and gives every record one outcome after the re-run',
    () =>
      fc.assert(
        fc.asyncProperty(hookCase(['malformed', 'duplicates', 'unstorable']), fc.double({ min: 0, max: 1, noNaN: true }), (spec, killAt) =>
          check(spec, { killAt }),
        ),
        fuzzParameters(2108, 25),
      ),
    fuzzTimeoutMs(60_000),
  );

  fuzz(
    'accounts every line of a record given two or three outcome lines, and never publishes it',
    () => fc.assert(property(hookCase(['conflicts', 'duplicates', 'malformed'])), fuzzParameters(2102, 25)),
    fuzzTimeoutMs(60_000),
  );

  fuzz(
    'refuses, alone, outcomes that hold what Postgres cannot store (NUL, lone surrogates)',
    () => fc.assert(property(hookCase(['unstorable'])), fuzzParameters(2103, 25)),
    fuzzTimeoutMs(60_000),
  );

  fuzz(
    'survives features nested deeper than JSON.stringify and Postgres can follow, and huge outcome lines',
    () => fc.assert(property(hookCase(['nesting', 'size'], { maxRecords: 6 })), fuzzParameters(2104, 12)),
    fuzzTimeoutMs(90_000),
  );

  fuzz(
    'reads outcome files only as regular files of the hook (links to the host, FIFOs, directories, its input hard-linked)',
    () =>
      fc.assert(
        property(
          hookCase(['malformed'], {
            form: fc.constantFrom<HookOutputForm>('regular', 'absent', 'symlink-host', 'directory', 'fifo', 'hardlink-input'),
          }),
        ),
        fuzzParameters(2105, 20, boundedTime(60_000)),
      ),
    fuzzTimeoutMs(120_000),
  );

  fuzz(
    'never reads outcome files through a $OSA_OUT replaced by a link to the host',
    () => fc.assert(property(hookCase(['malformed'], { outDirLink: fc.constant(true) })), fuzzParameters(2109, 5)),
    fuzzTimeoutMs(60_000),
  );

  fuzz(
    'never reads a device as an outcome file',
    () =>
      fc.assert(
        property(hookCase([], { form: fc.constantFrom<HookOutputForm>('regular', 'device', 'dev-symlink'), maxRecords: 4 })),
        fuzzParameters(2106, 6, boundedTime(60_000)),
      ),
    fuzzTimeoutMs(120_000),
  );

  fuzz(
    'keeps counts exact when one hook rejects 160,000 records of a batch',
    () =>
      fc.assert(
        fc.asyncProperty(
          fc.constant<HookCase>({
            plans: [],
            bulk: [
              { count: 160_000, plan: { plan: 'rejected', reason: 'no' } },
              { count: 1000, plan: { plan: 'errored', error: 'e', retryable: false } },
              { count: 1000, plan: { plan: 'passed', features: [] } },
            ],
            extras: [],
            forms: { features: 'regular', rejections: 'regular', errors: 'regular' },
            outDirLink: false,
            crlf: false,
          }),
          (spec) => check(spec, { deadlineMs: 100_000 }),
        ),
        // One fixed case: more runs (FUZZ_RUNS) would only repeat it.
        { seed: 2107, numRuns: 1 },
      ),
    fuzzTimeoutMs(120_000),
  );
});

/** Every file under a directory, concatenated (the checkpoint is small in these cases). */
async function readTree(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const texts = await Promise.all(entries.filter((e) => e.isFile()).map((e) => readFile(path.join(e.parentPath, e.name), 'utf8')));
  return texts.join('\n');
}
