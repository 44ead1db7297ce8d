import type { RecordIssue } from './record-issue.js';

/**
 * How many per-record issues one stage step stores for one batch (the ingester per batch, each
 * hook per batch). A container can produce millions of bad lines; every one is counted on the
 * batch, but listing them all would make one transaction and one table row per line.
 */
export const MAX_LISTED_ISSUES = 5000;

/** Kind of the one line that stands for the issues past the cap. */
export const ISSUES_TRUNCATED = 'issues_truncated';

/**
 * The issues of one stage step for one batch, capped: the first `cap` are kept to be stored,
 * the rest only counted, and `toRecords` adds one `issues_truncated` line whose reason starts
 * with that count (the run card adds those counts to the issues it lists).
 */
export class CappedIssues {
  private readonly listed: RecordIssue[] = [];
  private unlisted = 0;

  /** @param cap - issues kept to be stored; @defaultValue {@link MAX_LISTED_ISSUES} */
  constructor(readonly cap = MAX_LISTED_ISSUES) {}

  /** True once no further issue will be listed. */
  get full(): boolean {
    return this.listed.length >= this.cap;
  }

  /** Lists the issue while there is room; past the cap it is only counted. */
  add(issue: RecordIssue): void {
    if (this.full) this.unlisted++;
    else this.listed.push(issue);
  }

  /**
   * Says how many issues the step counted in all, listed or not, for a caller that stops
   * building issues once the list is full: the difference is summarized.
   */
  setTotal(total: number): void {
    this.unlisted = Math.max(0, total - this.listed.length);
  }

  /**
   * The listed issues and, when some were only counted, one line saying how many.
   * @param where - the batch (and stage, hook) the summary line belongs to.
   * @param what - what was not listed, plural: "invalid lines", `issues of hook "x"`.
   */
  toRecords(where: Omit<RecordIssue, 'kind' | 'reason'>, what: string): RecordIssue[] {
    if (this.unlisted === 0) return this.listed.slice();
    return this.listed.concat({ ...where, kind: ISSUES_TRUNCATED, reason: `${this.unlisted} more ${what} were counted but not listed` });
  }
}
