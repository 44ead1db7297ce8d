import { CSRF_FIELD } from '../auth/session.js';
import { formatTime } from './format.js';
import { type Html, html } from './html.js';
import { layout } from './layout.js';
import type { FailedBatchView, RunRowView } from './run-view.js';

export interface ReplayRequestView {
  batches?: number[];
  hook?: string;
  memory?: string;
  image?: string;
}

const hidden = (name: string, value: string | undefined) => (value ? html`<input type="hidden" name="${name}" value="${value}" />` : '');

/** The confirmation step of a replay: what will run again and with which override, then POST. */
export function replayConfirmPage(run: RunRowView, failed: FailedBatchView[], request: ReplayRequestView, csrf: string): Html {
  const chosen = request.batches ? failed.filter((b) => request.batches!.includes(b.batchIndex)) : failed;
  const override = [
    request.hook && `hook ${request.hook}`,
    request.memory && `memory ${request.memory}`,
    request.image && `image ${request.image}`,
  ].filter(Boolean);
  const body = html`<p><a href="/runs/${run.id}">← Back to the run</a></p>
    <h1>Replay failed batches of ${run.conventionId}?</h1>
    <p>
      Run <code>${run.id}</code>. These failed batches go back to the hooks (or the publisher when their hook outcomes were already committed);
      batches the ingester failed to source are skipped.
    </p>
    ${
      chosen.length
        ? html`<ul id="replay-batches">
            ${chosen.map((b) => html`<li>Batch ${b.batchIndex}: ${b.stage ?? '?'} · <code>${b.kind ?? 'unknown'}</code> · ${b.reason ?? ''}</li>`)}
          </ul>`
        : html`<p class="notice error">None of the chosen batches has failed.</p>`
    }
    ${request.batches && request.batches.length > chosen.length ? html`<p class="muted">Not failed, so not replayed: ${request.batches.filter((i) => !chosen.some((b) => b.batchIndex === i)).join(', ')}.</p>` : ''}
    <p>Override: ${override.length ? override.join(', ') : 'none (the run’s convention as it is)'}.</p>
    <form method="post" action="/runs/${run.id}/replay" class="action">
      <input type="hidden" name="${CSRF_FIELD}" value="${csrf}" />
      <input type="hidden" name="confirm" value="yes" />
      ${hidden('batches', request.batches?.join(','))}${hidden('hook', request.hook)}${hidden('memory', request.memory)}${hidden('image', request.image)}
      <button type="submit" class="danger" id="confirm-replay">Replay ${chosen.length} batch${chosen.length === 1 ? '' : 'es'}</button>
      <a href="/runs/${run.id}">Cancel</a>
    </form>`;
  return layout({ title: 'Confirm replay', body, jsonHref: `/api/ingestions/${run.id}` });
}

export function replayDonePage(
  runId: string,
  result: { replay: number; reopened: boolean; batches: Array<{ batchIndex: number; queue: string }> },
): Html {
  const body = html`<h1>Replay ${result.replay} started</h1>
    <p class="notice" id="replay-done" role="status">
      Requeued ${result.batches.length} batch${result.batches.length === 1 ? '' : 'es'}:
      ${result.batches
        .map((b) => `${b.batchIndex} (${b.queue})`)
        .join(', ')}${result.reopened ? '. The run was completed and is running again.' : '.'}
    </p>
    <p><a href="/runs/${runId}">Follow the run</a></p>`;
  return layout({ title: 'Replay started', body, jsonHref: `/api/ingestions/${runId}` });
}

export function resumeConfirmPage(run: RunRowView, csrf: string): Html {
  const body = html`<p><a href="/runs/${run.id}">← Back to the run</a></p>
    <h1>Resume pulling for ${run.conventionId}?</h1>
    <p>
      The failure breaker paused run <code>${run.id}</code> until
      ${formatTime(run.pause.until)}${run.pause.reason ? html`: ${run.pause.reason}` : ''}. Resuming lifts the pause now; the breaker then judges only
      the batches that follow.
    </p>
    <form method="post" action="/runs/${run.id}/resume" class="action">
      <input type="hidden" name="${CSRF_FIELD}" value="${csrf}" />
      <input type="hidden" name="confirm" value="yes" />
      <button type="submit" class="danger" id="confirm-resume">Resume the run</button>
      <a href="/runs/${run.id}">Cancel</a>
    </form>`;
  return layout({ title: 'Confirm resume', body, jsonHref: `/api/ingestions/${run.id}` });
}

export function resumeDonePage(runId: string): Html {
  const body = html`<h1>Run resumed</h1>
    <p class="notice" role="status">The ingester pulls again on its next look.</p>
    <p><a href="/runs/${runId}">Follow the run</a></p>`;
  return layout({ title: 'Run resumed', body, jsonHref: `/api/ingestions/${runId}` });
}

export function errorPage(status: number, title: string, message: string): Html {
  const body = html`<h1>${status} ${title}</h1>
    <p class="notice error" id="error-message">${message}</p>
    <p><a href="/runs">All runs</a></p>`;
  return layout({ title: `${status} ${title}`, body });
}
