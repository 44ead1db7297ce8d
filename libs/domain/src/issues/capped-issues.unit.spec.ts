import { CappedIssues, ISSUES_TRUNCATED, MAX_LISTED_ISSUES } from './capped-issues.js';
import type { RecordIssue } from './record-issue.js';

const place = { runId: '00000000-0000-0000-0000-000000000001', batchIndex: 3, stage: 'hooks', hook: 'flag' };
const issue = (n: number): RecordIssue => ({ ...place, sourceId: `r${n}`, kind: 'rejected', reason: `no ${n}` });

describe(CappedIssues.name, () => {
  it(`lists ${MAX_LISTED_ISSUES} issues by default`, () => {
    expect(new CappedIssues().cap).toBe(MAX_LISTED_ISSUES);
  });

  it('lists every issue up to the cap, and adds no summary line when none was left out', () => {
    const capped = new CappedIssues(3);
    for (let n = 0; n < 3; n++) capped.add(issue(n));
    expect(capped.full).toBe(true);
    expect(capped.toRecords(place, 'issues of hook "flag"')).toEqual([issue(0), issue(1), issue(2)]);
  });

  it('counts the issues past the cap and says how many in one issues_truncated line of the same batch', () => {
    const capped = new CappedIssues(2);
    for (let n = 0; n < 7; n++) capped.add(issue(n));
    expect(capped.toRecords(place, 'invalid lines')).toEqual([
      issue(0),
      issue(1),
      { ...place, kind: ISSUES_TRUNCATED, reason: '5 more invalid lines were counted but not listed' },
    ]);
  });

  it('takes the total from a caller that stopped adding once the list was full', () => {
    const capped = new CappedIssues(2);
    capped.add(issue(0));
    capped.add(issue(1));
    capped.setTotal(195_002);
    expect(capped.toRecords(place, 'issues of hook "flag"').at(-1)?.reason).toBe('195000 more issues of hook "flag" were counted but not listed');
  });

  it('never summarizes a negative count when the total is below what was listed', () => {
    const capped = new CappedIssues(5);
    capped.add(issue(0));
    capped.add(issue(1));
    capped.setTotal(1);
    expect(capped.toRecords(place, 'invalid lines')).toEqual([issue(0), issue(1)]);
  });
});
