import { formatCount } from './format.js';
import { type Html, html } from './html.js';
import type { RunRowView } from './run-view.js';

const PARTS = ['published', 'rejected', 'errored', 'invalid'] as const;

/**
 * Published / rejected / errored / invalid as shares of the records sourced, as an SVG bar
 * (no inline styles, so the pages keep a strict Content-Security-Policy) with the same numbers
 * in its accessible name.
 */
export function progressBar(counters: RunRowView['counters']): Html {
  const total = Math.max(
    counters.recordsSourced,
    PARTS.reduce((n, p) => n + counters[p], 0),
  );
  const label = `${PARTS.map((p) => `${p} ${formatCount(counters[p])}`).join(', ')} of ${formatCount(counters.recordsSourced)} sourced`;
  let x = 0;
  const rects = PARTS.map((part) => {
    const width = total > 0 ? (counters[part] / total) * 100 : 0;
    const rect = width > 0 ? html`<rect class="sw-${part}" x="${x.toFixed(3)}" y="0" width="${width.toFixed(3)}" height="12"></rect>` : '';
    x += width;
    return rect;
  });
  return html`<svg class="progress" viewBox="0 0 100 12" preserveAspectRatio="none" role="img" aria-label="${label}">
    <title>${label}</title>
    <rect fill="#eaeef2" x="0" y="0" width="100" height="12"></rect>
    ${rects}
  </svg>`;
}

export function progressLegend(): Html {
  return html`<ul class="legend">
    ${PARTS.map((p) => html`<li><span class="swatch sw-${p}"></span>${p}</li>`)}
    <li><span class="swatch sw-rest"></span>not yet through the pipeline</li>
  </ul>`;
}
