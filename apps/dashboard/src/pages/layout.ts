import { type Html, html } from './html.js';

export interface PageOptions {
  title: string;
  body: Html;
  /** The API route that returns this page's data as JSON. */
  jsonHref?: string;
  /** Loads the live-update script (the page marks what it refreshes). */
  live?: boolean;
}

/** The document around every run page. */
export function layout({ title, body, jsonHref, live }: PageOptions): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · osa-ingest</title>
        <link rel="stylesheet" href="/assets/dashboard.css" />
        ${live ? html`<script src="/assets/live.js" defer></script>` : ''}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/runs">osa-ingest</a>
          <nav aria-label="Main"><a href="/runs">Runs</a><a href="/queues">Queues</a><a href="/api/openapi.json">API</a></nav>
        </header>
        <main id="main">${body} ${jsonHref ? html`<p class="json-link"><a href="${jsonHref}">This page as JSON (${jsonHref})</a></p>` : ''}</main>
      </body>
    </html>`;
}
