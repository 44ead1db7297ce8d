import { type HookCounts } from '#osa/domain';
import { formatCount, formatDuration, formatTime, toMs } from './format.js';
import { type Html, html } from './html.js';
import { layout } from './layout.js';
import { progressBar, progressLegend } from './progress.view.js';
import { isActive, type RunLiveView, type RunPageView } from './run-view.js';
import { runDuration, statusBadge, waitingText } from './runs-list.view.js';
import { batchTable, timeline } from './timeline.view.js';

/** What the signed-in principal may do here; the POST handlers check the same again. */
export interface PageAbilities {
  ingest: boolean;
  conventions: boolean;
}

export const LIVE_INTERVAL_MS = 2000;

export function runPage(view: RunPageView, can: PageAbilities): Html {
  const { run } = view;
  const active = isActive(run);
  const body = html`<p><a href="/runs">← All runs</a></p>
    <h1>Run of ${run.conventionId} ${statusBadge(run.status)}<br /><span class="muted">${run.id}</span></h1>
    ${
      active
        ? html`<p class="notice" data-live-url="/runs/${run.id}/live" data-live-interval="${LIVE_INTERVAL_MS}">
            <span id="live-state">This run is active: reload the page for its latest state.</span>
          </p>`
        : ''
    }
    ${run.latestFailure ? html`<p class="notice error">Latest failure${run.latestFailure.kind ? html` (<code>${run.latestFailure.kind}</code>)` : ''}: ${run.latestFailure.reason}</p>` : ''}
    <section aria-labelledby="h-counters">
      <h2 id="h-counters">Counters</h2>
      <div id="live-counters">${countersFragment(view)}</div>
    </section>
    <section aria-labelledby="h-timeline">
      <h2 id="h-timeline">Batch timeline</h2>
      <div id="live-timeline">${timelineFragment(view)}</div>
    </section>
    <section aria-labelledby="h-hooks">
      <h2 id="h-hooks">Hook outcomes</h2>
      ${active ? html`<p class="muted">Summed over every batch, so refreshed when the run finishes (reload for the latest counts meanwhile).</p>` : ''}
      <div id="live-hooks">${hooksFragment(view)}</div>
    </section>
    <section aria-labelledby="h-memory">
      <h2 id="h-memory">Memory</h2>
      <div id="live-memory">${memoryFragment(view)}</div>
    </section>
    <section aria-labelledby="h-failed">
      <h2 id="h-failed">Failed batches (${view.failedPage.total})</h2>
      ${failedSection(view)}
    </section>
    <section aria-labelledby="h-issues">
      <h2 id="h-issues">Record issues</h2>
      ${issuesSection(view)}
    </section>
    <section aria-labelledby="h-actions">
      <h2 id="h-actions">Actions</h2>
      ${actionsSection(view, can)}
    </section>`;
  return layout({ title: `Run ${run.id.slice(0, 8)} of ${run.conventionId}`, body, jsonHref: `/api/ingestions/${run.id}`, live: active });
}

export function countersFragment(view: RunLiveView): Html {
  const { run } = view;
  const c = run.counters;
  const waiting = waitingText(run, view.now);
  const card = (label: string, value: string | number) =>
    html`<div>
      <dt>${label}</dt>
      <dd>${typeof value === 'number' ? formatCount(value) : value}</dd>
    </div>`;
  return html`<dl class="cards">
      ${card('Records sourced', c.recordsSourced)}${card('Published', c.published)}${card('Rejected', c.rejected)}${card('Errored', c.errored)}${card('Invalid lines', c.invalid)}
      ${card('Started', formatTime(run.startedAt ?? run.createdAt))}${card('Duration', formatDuration(runDuration(run, view.now)))}
      ${card('Deferrals', `${formatCount(run.waiting.deferrals)} (${formatDuration(run.waiting.deferredMs)} waited)`)}
    </dl>
    ${progressBar(c)}${progressLegend()} ${waiting ? html`<p><strong>Waiting:</strong> ${waiting}</p>` : ''}
    <h3>Stages</h3>
    ${stagesTable(view)}`;
}

function stagesTable(view: RunLiveView): Html {
  const { run } = view;
  const s = (state: string) => view.batchesByState[state] ?? 0;
  const failedIn = (stage: string) => view.failedByStage[stage] ?? 0;
  const ingesterState = run.ingestionFinished
    ? `finished ${formatTime(run.ingestionFinishedAt)}`
    : toMs(run.pause.until) && toMs(run.pause.until)! > view.now.getTime()
      ? 'paused by the failure breaker'
      : run.waiting.reason
        ? 'held by backpressure'
        : isActive(run)
          ? 'pulling'
          : 'stopped';
  return html`<div class="table-scroll">
    <table id="stages">
      <thead>
        <tr>
          <th scope="col">Stage</th>
          <th scope="col" class="num">Done</th>
          <th scope="col" class="num">Waiting for it</th>
          <th scope="col" class="num">Failed</th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <th scope="row">Ingester</th>
          <td class="num">${run.counters.batchesIngested} batch${run.counters.batchesIngested === 1 ? '' : 'es'}</td>
          <td class="num">—</td>
          <td class="num">${failedIn('ingester')}</td>
          <td>${ingesterState}</td>
        </tr>
        <tr>
          <th scope="row">Hooks</th>
          <td class="num">${s('hooked') + s('published') + failedIn('publisher')}</td>
          <td class="num">${s('sourced')}</td>
          <td class="num">${failedIn('hooks')}</td>
          <td>${s('sourced') ? 'running' : 'idle'}</td>
        </tr>
        <tr>
          <th scope="row">Publisher</th>
          <td class="num">${s('published')}</td>
          <td class="num">${s('hooked')}</td>
          <td class="num">${failedIn('publisher')}</td>
          <td>${s('hooked') ? 'running' : 'idle'}</td>
        </tr>
      </tbody>
    </table>
  </div>`;
}

export function timelineFragment(view: RunLiveView): Html {
  return html`${timeline(view)}${batchTable(view)}`;
}

export function hooksFragment(view: RunPageView): Html {
  const hooks = [...new Set([...view.hooks, ...Object.keys(view.hookCounts)])];
  if (!hooks.length) return html`<p class="muted">This convention has no hooks.</p>`;
  const keys: Array<keyof HookCounts> = ['passed', 'rejected', 'errored', 'missing', 'invalid'];
  return html`<div class="table-scroll">
    <table id="hook-counts">
      <thead>
        <tr>
          <th scope="col">Hook</th>
          ${keys.map((k) => html`<th scope="col" class="num">${k}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${hooks.map(
          (h) =>
            html`<tr>
              <th scope="row">${h}</th>
              ${keys.map((k) => html`<td class="num">${formatCount(view.hookCounts[h]?.[k] ?? 0)}</td>`)}
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export function memoryFragment(view: RunPageView): Html {
  if (!view.memory.length) return html`<p class="muted">No hooks.</p>`;
  const count = (hook: string, key: 'containerRuns' | 'oomKills' | 'memoryEscalations' | 'bisectionRuns') =>
    formatCount(view.hookCounts[hook]?.[key] ?? 0);
  return html`<div class="table-scroll">
      <table id="memory">
        <thead>
          <tr>
            <th scope="col">Hook</th>
            <th scope="col">Memory limit (this run)</th>
            <th scope="col" class="num">Container runs</th>
            <th scope="col" class="num">Killed for memory</th>
            <th scope="col" class="num">Re-runs with more memory</th>
            <th scope="col" class="num">Bisection runs</th>
          </tr>
        </thead>
        <tbody>
          ${view.memory.map(
            (m) =>
              html`<tr>
                <th scope="row">${m.hook}</th>
                <td>${m.memory ?? 'runner default'}</td>
                <td class="num">${count(m.hook, 'containerRuns')}</td>
                <td class="num">${count(m.hook, 'oomKills')}</td>
                <td class="num">${count(m.hook, 'memoryEscalations')}</td>
                <td class="num">${count(m.hook, 'bisectionRuns')}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <p>Batches failed for memory (kind <code>oom</code>): ${view.oomFailedBatches}.</p>
    <p class="muted">
      Counted for the hooks steps that committed a batch; a batch whose hooks failed finally shows its failure kind below instead.
    </p>`;
}

function failedSection(view: RunPageView): Html {
  const { page, pageSize, total } = view.failedPage;
  if (!total) return html`<p class="muted">No batch failed.</p>`;
  const link = (p: number) => `/runs/${view.run.id}${p > 1 ? `?failedPage=${p}` : ''}#h-failed`;
  const first = (page - 1) * pageSize;
  const pager =
    total > pageSize
      ? html`<nav class="pager" aria-label="Failed batch pages">
          Batches ${first + 1}–${first + view.failedBatches.length} of ${total}.
          ${page > 1 ? html`<a href="${link(page - 1)}" rel="prev">← Previous failed batches</a>` : ''}
          ${first + view.failedBatches.length < total ? html`<a href="${link(page + 1)}" rel="next">More failed batches →</a>` : ''}
        </nav>`
      : '';
  return html`${pager}${view.failedBatches.map(
    (b) =>
      html`<details id="failed-${b.batchIndex}" class="failed-batch">
        <summary>Batch ${b.batchIndex}: ${b.stage ?? '?'} · <code>${b.kind ?? 'unknown'}</code> · ${truncate(b.reason ?? '', 160)}</summary>
        <p>${b.reason ?? ''}</p>
        ${b.logs.length ? html`<pre class="logs" tabindex="0" aria-label="Last log lines of batch ${b.batchIndex}">${b.logs.join('\n')}</pre>` : html`<p class="muted">No log lines were captured.</p>`}
      </details>`,
  )}`;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function issuesSection(view: RunPageView): Html {
  const { run, issues } = view;
  const kinds = Object.entries(view.issuesByKind).sort((a, b) => b[1] - a[1]);
  const query = (page: number) => {
    const q = new URLSearchParams();
    if (issues.batch !== undefined) q.set('batch', String(issues.batch));
    if (issues.kind) q.set('kind', issues.kind);
    if (page > 1) q.set('issuesPage', String(page));
    const s = q.toString();
    return `/runs/${run.id}${s ? `?${s}` : ''}#h-issues`;
  };
  const apiQuery = new URLSearchParams();
  if (issues.batch !== undefined) apiQuery.set('batch', String(issues.batch));
  if (issues.kind) apiQuery.set('kind', issues.kind);
  apiQuery.set('limit', String(issues.pageSize));
  if (issues.page > 1) apiQuery.set('offset', String((issues.page - 1) * issues.pageSize));
  return html`<p>
      ${kinds.length ? kinds.map(([k, n], i) => html`${i ? ', ' : ''}<code>${k}</code> ${formatCount(n)}`) : 'None.'}${
        view.issuesNotListed ? html` · ${formatCount(view.issuesNotListed)} more counted but not listed` : ''
      }
    </p>
    <form class="filters" method="get" action="/runs/${run.id}#h-issues" aria-label="Filter record issues">
      <label>Batch<input name="batch" type="number" min="0" inputmode="numeric" value="${issues.batch ?? ''}" size="6" /></label>
      <label
        >Kind<select name="kind">
          <option value="">any</option>
          ${kinds.map(([k]) => html`<option value="${k}" ${k === issues.kind ? html` selected` : ''}>${k}</option>`)}
        </select></label
      >
      <button type="submit">Show issues</button>
    </form>
    ${
      issues.items.length
        ? html`<div class="table-scroll">
            <table id="issues">
              <thead>
                <tr>
                  <th scope="col" class="num">Batch</th>
                  <th scope="col">Stage</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Record / line</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                ${issues.items.map(
                  (i) =>
                    html`<tr>
                      <td class="num">${i.batchIndex}</td>
                      <td>${i.stage}${i.hook ? html` · ${i.hook}` : ''}</td>
                      <td><code>${i.kind}</code></td>
                      <td>${i.sourceId ?? (i.lineNumber !== null ? `line ${i.lineNumber}` : '—')}</td>
                      <td>${i.reason}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : html`<p class="muted">No issues${issues.batch !== undefined || issues.kind ? ' match' : ''}.</p>`
    }
    <nav class="pager" aria-label="Issue pages">
      ${issues.page > 1 ? html`<a href="${query(issues.page - 1)}" rel="prev">← Previous issues</a>` : ''}
      ${issues.hasMore ? html`<a href="${query(issues.page + 1)}" rel="next">Next issues →</a>` : ''}
    </nav>
    <p class="json-link"><a href="/api/ingestions/${run.id}/issues?${apiQuery.toString()}">These issues as JSON</a></p>`;
}

function actionsSection(view: RunPageView, can: PageAbilities): Html {
  const { run } = view;
  const paused = (toMs(run.pause.until) ?? 0) > view.now.getTime();
  const parts: Html[] = [];
  if (!can.ingest) {
    parts.push(html`<p class="muted" id="read-only">You can read this run; replaying and resuming need the <code>ingestions:write</code> scope.</p>`);
  }
  if (view.failedPage.total && can.ingest) {
    parts.push(
      html`<details id="replay">
        <summary>Replay failed batches…</summary>
        <form class="action filters" method="get" action="/runs/${run.id}/replay">
          <label>Batches (blank: every replayable one)<input name="batches" placeholder="e.g. 3, 7" value="" size="14" /></label>
          <label
            >Hook to override<select name="hook">
              <option value="">none</option>
              ${view.hooks.map((h) => html`<option value="${h}">${h}</option>`)}
            </select></label
          >
          <label>Memory<input name="memory" placeholder="e.g. 2g" size="8" /></label>
          ${can.conventions ? html`<label>Image<input name="image" placeholder="registry/image@sha256:…" size="28" /></label>` : ''}
          <button type="submit">Review replay…</button>
        </form>
        ${can.conventions ? '' : html`<p class="muted">An image override needs the <code>conventions:write</code> scope.</p>`}
      </details>`,
    );
  }
  if (paused && can.ingest) {
    parts.push(
      html`<p>
        <a href="/runs/${run.id}/resume" id="resume-link">Resume pulling…</a> (the failure breaker paused this run until
        ${formatTime(run.pause.until)})
      </p>`,
    );
  }
  if (!view.failedPage.total && !paused) parts.push(html`<p class="muted">Nothing to replay or resume.</p>`);
  return html`${parts}`;
}
