import { RunStatus } from '#osa/domain';
import { formatDuration, formatTime, toMs } from './format.js';
import { type Html, html } from './html.js';
import { layout } from './layout.js';
import { progressBar, progressLegend } from './progress.view.js';
import { isActive, type RunRowView } from './run-view.js';

export interface RunsListView {
  items: RunRowView[];
  total: number;
  convention?: string;
  status?: RunStatus;
  page: number;
  pageSize: number;
  now: Date;
}

/** Why a run is not moving right now, or nothing when it is not held. */
export function waitingText(run: RunRowView, now: Date): string {
  const pausedUntil = toMs(run.pause.until);
  if (pausedUntil !== undefined && pausedUntil > now.getTime()) {
    // The breaker's reason already says until when.
    return run.pause.reason ? `failure breaker: ${run.pause.reason}` : `paused until ${formatTime(run.pause.until)}`;
  }
  if (run.waiting.reason) {
    // From the held pull's first deferral: `since` restarts at every deferral.
    const since = toMs(run.waiting.heldSince ?? run.waiting.since);
    return `${run.waiting.reason}${since !== undefined ? ` (for ${formatDuration(now.getTime() - since)})` : ''}`;
  }
  return '';
}

export function runDuration(run: RunRowView, now: Date): number | undefined {
  const start = toMs(run.startedAt ?? run.createdAt);
  if (start === undefined) return undefined;
  return (toMs(run.completedAt) ?? (isActive(run) ? now.getTime() : start)) - start;
}

export function statusBadge(status: string): Html {
  return html`<span class="status status-${status}">${status}</span>`;
}

export function listQuery(view: Pick<RunsListView, 'convention' | 'status'>, page: number): string {
  const q = new URLSearchParams();
  if (view.convention) q.set('convention', view.convention);
  if (view.status) q.set('status', view.status);
  if (page > 1) q.set('page', String(page));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function runsListPage(view: RunsListView): Html {
  const pages = Math.max(1, Math.ceil(view.total / view.pageSize));
  const apiQuery = new URLSearchParams();
  if (view.convention) apiQuery.set('convention', view.convention);
  if (view.status) apiQuery.set('status', view.status);
  apiQuery.set('limit', String(view.pageSize));
  apiQuery.set('offset', String((view.page - 1) * view.pageSize));
  const rows = view.items.map((run) => {
    const waiting = waitingText(run, view.now);
    return html`<tr data-run="${run.id}">
      <td><a href="/runs/${run.id}">${run.conventionId}</a><br /><span class="muted hide-narrow">${run.id.slice(0, 8)}</span></td>
      <td>${statusBadge(run.status)}</td>
      <td class="hide-narrow">${formatTime(run.startedAt ?? run.createdAt)}</td>
      <td class="num">${formatDuration(runDuration(run, view.now))}</td>
      <td>${progressBar(run.counters)}<span class="muted">${run.counters.published} of ${run.counters.recordsSourced} published</span></td>
      <td>${waiting || html`<span class="muted">—</span>`}</td>
    </tr>`;
  });
  const body = html`<h1>Ingest runs</h1>
    <form class="filters" method="get" action="/runs" aria-label="Filter runs">
      <label
        >Convention<input name="convention" value="${view.convention ?? ''}" pattern="[a-z0-9][a-z0-9_-]{0,38}[a-z0-9]|[a-z0-9]" size="18"
      /></label>
      <label
        >Status<select name="status">
          <option value="">any</option>
          ${Object.values(RunStatus).map((s) => html`<option value="${s}" ${s === view.status ? html` selected` : ''}>${s}</option>`)}
        </select></label
      >
      <button type="submit">Filter</button>
      ${view.convention || view.status ? html`<a href="/runs">Clear filters</a>` : ''}
    </form>
    <p class="muted">${view.total} run${view.total === 1 ? '' : 's'}${pages > 1 ? `, page ${view.page} of ${pages}` : ''}</p>
    ${progressLegend()}
    <div class="table-scroll">
      <table id="runs">
        <caption class="skip">
          Runs, newest first
        </caption>
        <thead>
          <tr>
            <th scope="col">Convention</th>
            <th scope="col">Status</th>
            <th scope="col" class="hide-narrow">Started</th>
            <th scope="col" class="num">Duration</th>
            <th scope="col">Progress</th>
            <th scope="col">Waiting</th>
          </tr>
        </thead>
        <tbody>
          ${
            rows.length
              ? rows
              : html`<tr>
                  <td colspan="6">No runs${view.convention || view.status ? ' match these filters' : ' yet'}.</td>
                </tr>`
          }
        </tbody>
      </table>
    </div>
    ${pager(view, pages)}`;
  return layout({ title: 'Runs', body, jsonHref: `/api/ingestions?${apiQuery.toString()}` });
}

function pager(view: RunsListView, pages: number): Html {
  if (pages <= 1) return html``;
  return html`<nav class="pager" aria-label="Pages">
    ${view.page > 1 ? html`<a href="/runs${listQuery(view, view.page - 1)}" rel="prev">← Newer</a>` : ''}
    ${view.page < pages ? html`<a href="/runs${listQuery(view, view.page + 1)}" rel="next">Older →</a>` : ''}
  </nav>`;
}
