import { formatDuration, formatTime, toMs } from './format.js';
import { type Html, html } from './html.js';
import { type BatchView, isActive, type RunLiveView } from './run-view.js';

const WIDTH = 1000;
const LABEL = 56;
const RIGHT = 10;
const ROW = 16;
const BAR = 10;
const AXIS = 22;
/** More rows than this make a page nobody scrolls; the table and the API still have every batch. */
export const TIMELINE_MAX_ROWS = 400;

interface Segment {
  cls: string;
  from: number;
  to: number;
}

/**
 * Where a batch spent its time: its pull held by backpressure, waiting for and in the hooks, then
 * the publisher, or failed.
 */
function segments(batch: BatchView, end: number): Segment[] {
  const sourced = toMs(batch.sourcedAt) ?? toMs(batch.failedAt) ?? end;
  const hooked = toMs(batch.hookedAt);
  const published = toMs(batch.publishedAt);
  const failed = toMs(batch.failedAt);
  const waited = toMs(batch.waitedFrom);
  const out: Segment[] = [];
  if (waited !== undefined && batch.sourcedAt && waited < sourced) out.push({ cls: 'seg-wait', from: waited, to: sourced });
  if (hooked !== undefined) out.push({ cls: 'seg-hooks', from: sourced, to: hooked });
  if (published !== undefined) out.push({ cls: 'seg-publish', from: hooked ?? sourced, to: published });
  if (failed !== undefined) out.push({ cls: 'seg-failed', from: hooked ?? sourced, to: failed });
  if (batch.state === 'sourced') out.push({ cls: 'seg-hooks seg-open', from: sourced, to: end });
  if (batch.state === 'hooked') out.push({ cls: 'seg-publish seg-open', from: hooked ?? sourced, to: end });
  return out;
}

function batchTitle(b: BatchView): string {
  const parts = [`batch ${b.batchIndex}: ${b.state}`];
  const waited = toMs(b.waitedFrom);
  const sourced = toMs(b.sourcedAt);
  if (waited !== undefined && sourced !== undefined && waited < sourced)
    parts.push(`pull held by backpressure for ${formatDuration(sourced - waited)}`);
  parts.push(`sourced ${formatTime(b.sourcedAt)}`);
  if (b.hookedAt) parts.push(`hooked ${formatTime(b.hookedAt)}`);
  if (b.publishedAt) parts.push(`published ${formatTime(b.publishedAt)}`);
  if (b.failedAt) parts.push(`failed ${formatTime(b.failedAt)}`);
  return parts.join(', ');
}

/**
 * One row per batch on a time axis shared by all rows, so pipelining (overlapping rows) and
 * backpressure (the shaded wait, gaps between rows) show at a glance.
 */
export function timeline(view: RunLiveView): Html {
  const batches = view.batches.filter((b) => b.state !== 'empty').slice(-TIMELINE_MAX_ROWS);
  if (!batches.length) return html`<p class="muted" id="timeline-empty">No batch sourced yet.</p>`;
  const { run } = view;
  const now = view.now.getTime();
  const times = batches.flatMap((b) =>
    [b.waitedFrom, b.sourcedAt, b.hookedAt, b.publishedAt, b.failedAt].map(toMs).filter((t): t is number => t !== undefined),
  );
  const start = Math.min(toMs(run.startedAt) ?? Infinity, ...times);
  const end = Math.max(isActive(run) ? now : (toMs(run.completedAt) ?? 0), ...times, start + 1000);
  const x = (t: number) => LABEL + ((t - start) / (end - start)) * (WIDTH - LABEL - RIGHT);
  const height = AXIS + batches.length * ROW + 4;

  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const tx = LABEL + f * (WIDTH - LABEL - RIGHT);
    const anchor = f === 0 ? 'start' : f === 1 ? 'end' : 'middle';
    return html`<line class="axis" x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="${AXIS - 4}" y2="${height}"></line
      ><text x="${tx.toFixed(1)}" y="12" text-anchor="${anchor}"
        >${f === 0 ? formatTime(start).slice(11) : `+${formatDuration(f * (end - start))}`}</text
      >`;
  });
  // From the held pull's first deferral: `since` restarts at every deferral.
  const waitFrom = run.waiting.heldSince ?? run.waiting.since;
  const waitSince = toMs(waitFrom);
  const wait =
    waitSince !== undefined && isActive(run)
      ? html`<rect
          class="wait"
          x="${x(Math.max(waitSince, start)).toFixed(1)}"
          y="${AXIS - 4}"
          width="${Math.max(2, x(now) - x(Math.max(waitSince, start))).toFixed(1)}"
          height="${height - AXIS + 4}"
          ><title>ingester waiting since ${formatTime(waitFrom)}: ${run.waiting.reason ?? ''}</title></rect
        >`
      : '';
  const rows = batches.map((b, i) => {
    const y = AXIS + i * ROW;
    const bars = segments(b, end).map(
      (s) =>
        html`<rect
          class="${s.cls}"
          x="${x(s.from).toFixed(1)}"
          y="${y + (ROW - BAR) / 2}"
          width="${Math.max(2, x(s.to) - x(s.from)).toFixed(1)}"
          height="${BAR}"
        ></rect>`,
    );
    return html`<g class="tl-row" data-batch="${b.batchIndex}" data-state="${b.state}"
      ><title>${batchTitle(b)}</title><text x="4" y="${y + ROW - 4}">#${b.batchIndex}</text>${bars}</g
    >`;
  });
  const summary = `Batch timeline: ${batches.length} batches from ${formatTime(start)} over ${formatDuration(end - start)}`;
  return html`<div class="table-scroll">
      <svg class="timeline" id="timeline" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" role="img" aria-label="${summary}">
        ${wait}${ticks}${rows}
      </svg>
    </div>
    <ul class="legend">
      <li><span class="swatch sw-hooks"></span>sourced → hooked</li>
      <li><span class="swatch sw-publish"></span>hooked → published</li>
      <li><span class="swatch sw-failed"></span>failed</li>
      <li>
        <span class="swatch sw-wait"></span>ingester held by backpressure (in a row: before the batch's pull; across all rows: the current wait)
      </li>
      <li>pale: still open</li>
    </ul>
    ${view.batchTotal > view.batches.length ? html`<p class="muted">Showing the last ${view.batches.length} of ${view.batchTotal} batches.</p>` : ''}`;
}

/** The same ledger times as a table, for screen readers and for copying. */
export function batchTable(view: RunLiveView): Html {
  return html`<details>
    <summary>Batches as a table (${view.batches.length})</summary>
    <div class="table-scroll">
      <table>
        <thead>
          <tr>
            <th scope="col" class="num">Batch</th>
            <th scope="col">State</th>
            <th scope="col" class="num">Records</th>
            <th scope="col">Sourced</th>
            <th scope="col">Hooked</th>
            <th scope="col">Published / failed</th>
            <th scope="col" class="num">Time in pipeline</th>
          </tr>
        </thead>
        <tbody>
          ${view.batches.map((b) => {
            const done = toMs(b.publishedAt ?? b.failedAt);
            return html`<tr>
              <td class="num">${b.batchIndex}</td>
              <td>${b.state}</td>
              <td class="num">${b.records}</td>
              <td>${formatTime(b.sourcedAt)}</td>
              <td>${formatTime(b.hookedAt)}</td>
              <td>${formatTime(b.publishedAt ?? b.failedAt)}</td>
              <td class="num">${done !== undefined ? formatDuration(done - (toMs(b.sourcedAt) ?? done)) : '—'}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
  </details>`;
}
