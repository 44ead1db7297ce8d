/**
 * The run pages' stylesheet and their one script, served by the dashboard itself (no CDN) from
 * these strings so the build needs no asset copying. The pages work without the script: it only
 * refreshes the live parts of an active run's page from its JSON endpoint.
 */

export const STYLESHEET = `
:root { --fg: #1f2328; --muted: #57606a; --line: #d0d7de; --bg-alt: #f6f8fa; --link: #0550ae;
  --published: #1a7f37; --rejected: #9a6700; --errored: #cf222e; --invalid: #6e7781; --rest: #eaeef2;
  --hooks: #0969da; --publish: #8250df; --wait: #fff1c2; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
a { color: var(--link); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible { outline: 3px solid #0969da; outline-offset: 2px; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; z-index: 1; }
header.top { display: flex; flex-wrap: wrap; gap: 1rem; align-items: baseline; padding: .75rem 1rem; border-bottom: 1px solid var(--line); background: var(--bg-alt); }
header.top .brand { font-weight: 700; color: var(--fg); text-decoration: none; }
header.top nav a { margin-right: 1rem; }
main { padding: 1rem; max-width: 1200px; }
h1 { font-size: 1.4rem; margin: .25rem 0 1rem; word-break: break-all; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.muted { color: var(--muted); }
.json-link { font-size: .9rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg-alt); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.table-scroll { overflow-x: auto; }
form.filters { display: flex; flex-wrap: wrap; gap: .75rem; align-items: end; margin-bottom: 1rem; }
form.filters label, form.action label { display: flex; flex-direction: column; font-size: .9rem; gap: .2rem; }
input, select, button { font: inherit; padding: .3rem .5rem; border: 1px solid #8c959f; border-radius: 4px; background: #fff; color: var(--fg); }
button { cursor: pointer; background: var(--bg-alt); }
button.danger { background: #cf222e; color: #fff; border-color: #a40e26; }
.status { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .85rem; border: 1px solid currentColor; }
.status-running { color: #0550ae; } .status-pending { color: #6e5600; } .status-completed { color: #116329; }
.progress { display: block; width: 100%; min-width: 8rem; height: 12px; }
.legend { display: flex; flex-wrap: wrap; gap: .25rem 1rem; font-size: .85rem; margin: .25rem 0; padding: 0; list-style: none; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .3rem; vertical-align: -1px; }
.sw-published { background: var(--published); } .sw-rejected { background: var(--rejected); } .sw-errored { background: var(--errored); }
.sw-invalid { background: var(--invalid); } .sw-hooks { background: var(--hooks); } .sw-publish { background: var(--publish); }
.sw-wait { background: var(--wait); border: 1px solid #d4a72c; } .sw-failed { background: var(--errored); }
.sw-rest { background: var(--rest); border: 1px solid var(--line); }
svg .sw-published { fill: var(--published); } svg .sw-rejected { fill: var(--rejected); }
svg .sw-errored { fill: var(--errored); } svg .sw-invalid { fill: var(--invalid); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); gap: .5rem; margin: 0; }
.cards div { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; }
.cards dt { font-size: .8rem; color: var(--muted); } .cards dd { margin: 0; font-size: 1.2rem; font-variant-numeric: tabular-nums; }
.timeline { width: 100%; min-width: 640px; height: auto; display: block; border: 1px solid var(--line); border-radius: 6px; }
.timeline text { font: 11px system-ui, sans-serif; fill: var(--fg); }
.timeline .axis { stroke: var(--line); }
.timeline .seg-hooks { fill: var(--hooks); } .timeline .seg-publish { fill: var(--publish); }
.timeline .seg-failed { fill: var(--errored); } .timeline .seg-open { fill-opacity: .45; }
.timeline .wait { fill: var(--wait); } .timeline .seg-wait { fill: var(--wait); stroke: #d4a72c; stroke-width: 1; }
.notice { border: 1px solid var(--line); border-left: 4px solid #0969da; padding: .5rem .75rem; background: var(--bg-alt); margin: 1rem 0; }
.notice.error { border-left-color: var(--errored); }
pre.logs { background: #0d1117; color: #e6edf3; padding: .5rem; overflow-x: auto; font-size: .8rem; max-height: 20rem; margin: .25rem 0 0; }
details { margin: .5rem 0; }
summary { cursor: pointer; }
.pager { display: flex; gap: 1rem; margin: .75rem 0; }
@media (max-width: 640px) {
  main { padding: .5rem; }
  .hide-narrow { display: none; }
  th, td { padding: .3rem .35rem; }
}
`;

/** Polls the page's live JSON while its run is active and swaps the server-rendered fragments. */
export const LIVE_SCRIPT = `
(function () {
  var root = document.querySelector('[data-live-url]');
  if (!root) return;
  var url = root.getAttribute('data-live-url');
  var every = Number(root.getAttribute('data-live-interval')) || 2000;
  var stamp = document.getElementById('live-state');
  function tick() {
    fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (res) { if (!res.ok) throw new Error('HTTP ' + res.status); return res.json(); })
      .then(function (data) {
        Object.keys(data.fragments).forEach(function (id) {
          var el = document.getElementById(id);
          if (el) el.innerHTML = data.fragments[id];
        });
        if (stamp) stamp.textContent = data.active ? 'Live: updated ' + new Date().toLocaleTimeString() : 'Run finished: reload for the full page.';
        if (data.active) setTimeout(tick, every);
      })
      .catch(function (err) {
        if (stamp) stamp.textContent = 'Live updates stopped (' + err.message + '): reload the page.';
      });
  }
  if (stamp) stamp.textContent = 'Live: refreshing every ' + every / 1000 + ' s';
  setTimeout(tick, every);
})();
`;
