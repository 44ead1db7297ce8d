import { z } from 'zod';
import { replayFormSchema, runListQuerySchema, runPageQuerySchema } from './page-input.js';
import type { BatchView, RunPageView } from './run-view.js';
import { countersFragment, runPage } from './run-page.view.js';
import { waitingText } from './runs-list.view.js';
import { timeline } from './timeline.view.js';

/** The markup with whitespace collapsed (the templates are formatted over several lines). */
const flat = (markup: { toString(): string }) => markup.toString().replace(/\s+/g, ' ').replace(/ >/g, '>');

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s));

function view(batches: Array<Partial<BatchView> & Pick<BatchView, 'batchIndex' | 'state'>>, run: Partial<RunPageView['run']> = {}): RunPageView {
  return {
    run: {
      id: '00000000-0000-4000-8000-000000000001',
      conventionId: 'geo',
      status: 'running',
      ingestionFinished: false,
      createdAt: t(0),
      startedAt: t(0),
      ingestionFinishedAt: null,
      completedAt: null,
      counters: { batchesIngested: 0, batchesPublished: 0, batchesFailed: 0, recordsSourced: 0, published: 0, rejected: 0, errored: 0, invalid: 0 },
      waiting: { reason: null, since: null, heldSince: null, deferrals: 0, deferredMs: 0 },
      pause: { until: null, reason: null },
      latestFailure: null,
      ...run,
    },
    hooks: [],
    hookCounts: {},
    batchesByState: {},
    batches: batches.map((b) => ({
      records: 10,
      published: 0,
      rejected: 0,
      errored: 0,
      invalid: 0,
      sourcedAt: t(b.batchIndex),
      hookedAt: null,
      publishedAt: null,
      failedAt: null,
      waitedFrom: null,
      ...b,
    })),
    batchTotal: batches.length,
    failedBatches: [],
    failedPage: { page: 1, pageSize: 20, total: 0 },
    failedByStage: {},
    issuesByKind: {},
    issuesNotListed: 0,
    issues: { items: [], page: 1, pageSize: 50, hasMore: false, total: 0 },
    memory: [],
    oomFailedBatches: 0,
    now: t(100),
  };
}

describe('batch timeline', () => {
  it('draws one row per batch with its ledger segments on one time axis, open ones up to now', () => {
    const svg = flat(
      timeline(
        view([
          { batchIndex: 0, state: 'published', hookedAt: t(10), publishedAt: t(20) },
          { batchIndex: 1, state: 'failed', hookedAt: t(30), failedAt: t(40) },
          { batchIndex: 2, state: 'hooked', hookedAt: t(50) },
          { batchIndex: 3, state: 'sourced' },
          { batchIndex: 4, state: 'empty' },
        ]),
      ),
    );
    const rows = [...svg.matchAll(/<g class="tl-row" data-batch="(\d+)" data-state="(\w+)">(.*?)<\/g>/g)];
    expect(rows.map((r) => [r[1], r[2]])).toEqual([
      ['0', 'published'],
      ['1', 'failed'],
      ['2', 'hooked'],
      ['3', 'sourced'],
    ]);
    const classes = rows.map((r) => [...r[3]!.matchAll(/<rect class="([^"]+)"/g)].map((m) => m[1]));
    expect(classes).toEqual([
      ['seg-hooks', 'seg-publish'],
      ['seg-hooks', 'seg-failed'],
      ['seg-hooks', 'seg-publish seg-open'],
      ['seg-hooks seg-open'],
    ]);
    // The axis runs from the run's start (x=56) to now (x=990): batch 0 is hooked at t=10 of 100.
    expect(rows[0]![3]).toContain('<rect class="seg-hooks" x="56.0" y="25" width="93.4" height="10">');
    expect(rows[3]![3]).toMatch(/<rect class="seg-hooks seg-open" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="10">/);
    expect(svg).not.toContain('class="wait"');
  });

  it("shades the ingester's current backpressure wait across every row, from the held pull's first deferral", () => {
    const svg = flat(
      timeline(
        view([{ batchIndex: 0, state: 'sourced' }], {
          // The latest of three deferrals was at t=60; the pull has been held since t=30.
          waiting: { reason: 'downstream_lag: 8 batches wait', since: t(60), heldSince: t(30), deferrals: 3, deferredMs: 0 },
        }),
      ),
    );
    expect(svg).toMatch(
      /<rect class="wait" x="336\.2" [^>]*><title>ingester waiting since 2026-01-01 12:00:30Z: downstream_lag: 8 batches wait<\/title>/,
    );
  });

  it("shades, in a batch's row, the backpressure wait that held its pull, up to when it was sourced", () => {
    const svg = flat(
      timeline(
        view(
          [
            { batchIndex: 0, state: 'published', hookedAt: t(10), publishedAt: t(20) },
            { batchIndex: 1, state: 'published', waitedFrom: t(25), sourcedAt: t(45), hookedAt: t(50), publishedAt: t(60) },
            // The ingester failed its pull for good: no batch was sourced, so no wait ends in this row.
            { batchIndex: 2, state: 'failed', waitedFrom: t(65), sourcedAt: null, failedAt: t(70) },
          ],
          { status: 'completed', completedAt: t(100) },
        ),
      ),
    );
    const rows = [...svg.matchAll(/<g class="tl-row" data-batch="(\d+)" data-state="(\w+)"><title>([^<]*)<\/title>(.*?)<\/g>/g)];
    expect(rows.map((r) => [...r[4]!.matchAll(/<rect class="([^"]+)"/g)].map((m) => m[1]))).toEqual([
      ['seg-hooks', 'seg-publish'],
      ['seg-wait', 'seg-hooks', 'seg-publish'],
      ['seg-failed'],
    ]);
    // t=25 to t=45 of an axis from t=0 (x=56) to t=100 (x=990).
    expect(rows[1]![4]).toContain('<rect class="seg-wait" x="289.5" y="41" width="186.8" height="10">');
    expect(rows[1]![3]).toContain('pull held by backpressure for 20 s');
    expect(rows[0]![3]).not.toContain('held');
    expect(svg).not.toContain('class="wait"');
  });
});

describe('run page failed batches', () => {
  const failed = (i: number) => ({ batchIndex: i, stage: 'hooks', kind: 'oom', reason: `batch ${i} killed`, logs: ['Killed'] });

  it('shows one page of failed batches and links the next and previous pages', () => {
    const base = view([]);
    const page = flat(
      runPage(
        { ...base, failedBatches: [20, 21].map(failed), failedPage: { page: 2, pageSize: 2, total: 5 }, failedByStage: { hooks: 5 } },
        { ingest: true, conventions: false },
      ),
    );
    expect(page).toContain('Failed batches (5)');
    expect([...page.matchAll(/<details id="failed-(\d+)"/g)].map((m) => m[1])).toEqual(['20', '21']);
    expect(page).toContain(`href="/runs/${base.run.id}#h-failed" rel="prev"`);
    expect(page).toContain(`href="/runs/${base.run.id}?failedPage=3#h-failed" rel="next"`);
  });

  it("counts every failed batch in the stages table, not only the page's", () => {
    const stages = flat(countersFragment({ ...view([]), failedByStage: { hooks: 30, publisher: 2 } }));
    expect(stages).toMatch(/<th scope="row">Hooks<\/th>(?:\s*<td[^>]*>[^<]*<\/td>){2}\s*<td class="num">30<\/td>/);
    expect(stages).toMatch(/<th scope="row">Publisher<\/th>(?:\s*<td[^>]*>[^<]*<\/td>){2}\s*<td class="num">2<\/td>/);
  });
});

describe('runs list waiting text', () => {
  it("counts the wait from the held pull's first deferral, not from its latest", () => {
    const { run } = view([], { waiting: { reason: 'downstream_lag: 8 batches wait', since: t(90), heldSince: t(30), deferrals: 4, deferredMs: 0 } });
    expect(waitingText(run, t(100))).toBe('downstream_lag: 8 batches wait (for 1 min 10 s)');
  });

  it('falls back to the latest deferral when the first is not known', () => {
    const { run } = view([], { waiting: { reason: 'downstream_lag: 8 batches wait', since: t(90), heldSince: null, deferrals: 1, deferredMs: 0 } });
    expect(waitingText(run, t(100))).toBe('downstream_lag: 8 batches wait (for 10 s)');
  });
});

describe('page input', () => {
  const problems = (schema: z.ZodType, input: unknown) => {
    const r = schema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
  };

  it('takes an empty form field as not given and bounds page numbers', () => {
    expect(runListQuerySchema.parse({ convention: '', status: '', page: '2' })).toEqual({ page: 2 });
    expect(problems(runListQuerySchema, { status: 'finished' })).toEqual(['status']);
    expect(problems(runListQuerySchema, { page: '0' })).toEqual(['page']);
    expect(problems(runListQuerySchema, { page: '10001' })).toEqual(['page']);
    expect(problems(runPageQuerySchema, { batch: '-1', kind: 'Robert"); drop', issuesPage: 'x' })).toEqual(['batch', 'kind', 'issuesPage']);
  });

  it("parses the replay form into the API's replay body, with the same checks", () => {
    expect(replayFormSchema.parse({ batches: ' 3, 7,3 ', hook: '', memory: '2g', image: '', confirm: 'yes', csrf: 'x' })).toEqual({
      body: { batches: [3, 7], memory: '2g' },
      confirmed: true,
    });
    expect(replayFormSchema.parse({})).toEqual({ body: {}, confirmed: false });
    expect(problems(replayFormSchema, { batches: '1; drop' })).toEqual(['batches']);
    expect(problems(replayFormSchema, { hook: 'Not A Hook' })).toEqual(['body.hook']);
  });
});
