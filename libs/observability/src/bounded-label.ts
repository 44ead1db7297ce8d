/** The value every label value past the bound is counted under. */
export const OVERFLOW_LABEL = 'other';

/**
 * Keeps a label's values bounded: hook names come from conventions, which operators add at will,
 * and every distinct value is a time series kept for as long as the process lives. The first
 * `maxValues` distinct values are kept (cut to `maxLength` characters); later ones are `other`.
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();

  constructor(
    private readonly maxValues = 100,
    private readonly maxLength = 63,
  ) {}

  value(raw: string | undefined): string {
    // Prometheus accepts any UTF-8, but a control character in a label only hurts whoever reads it.
    const value = (raw ?? '').replace(/[\u0000-\u001f\u007f]/g, '_').slice(0, this.maxLength);
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.maxValues) return OVERFLOW_LABEL;
    this.seen.add(value);
    return value;
  }
}
