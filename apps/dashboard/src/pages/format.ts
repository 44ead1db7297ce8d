/** UTC times to the second: operators compare them with logs, which are in UTC. */
export function formatTime(at: Date | string | number | null | undefined): string {
  if (at === null || at === undefined || at === '') return '—';
  const d = at instanceof Date ? at : new Date(at);
  return Number.isNaN(d.getTime()) ? '—' : d.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return ms < 1000 ? `${Math.round(ms)} ms` : `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function toMs(at: Date | string | null | undefined): number | undefined {
  if (!at) return undefined;
  const t = (at instanceof Date ? at : new Date(at)).getTime();
  return Number.isNaN(t) ? undefined : t;
}
