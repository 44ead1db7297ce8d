import { OutcomeLineTally } from './outcome-line-tally.js';

const FILES = ['features.jsonl', 'rejections.jsonl', 'errors.jsonl'];

describe(OutcomeLineTally.name, () => {
  it('counts outcome lines per record and lists only the records given more than one, in batch order', () => {
    const tally = new OutcomeLineTally(4, FILES.length);
    expect(tally.add(2, 0, 1)).toBe(1);
    expect(tally.add(0, 0, 2)).toBe(1);
    expect(tally.add(2, 1, 1)).toBe(2);
    expect(tally.add(3, 2, 1)).toBe(1);
    expect(tally.add(0, 0, 7)).toBe(2);
    expect([...tally.conflicted()]).toEqual([0, 2]);
  });

  it('names each file with its first and last line for the record, in file order whatever order they came in', () => {
    const tally = new OutcomeLineTally(1, FILES.length);
    tally.add(0, 1, 4);
    tally.add(0, 0, 2);
    tally.add(0, 0, 5);
    tally.add(0, 0, 9);
    expect(tally.describe(0, FILES)).toBe('4 outcome lines (features.jsonl lines 2 and 9, rejections.jsonl line 4, and 1 more)');
  });

  it('says a line repeated in one file twice', () => {
    const tally = new OutcomeLineTally(1, FILES.length);
    tally.add(0, 2, 3);
    tally.add(0, 2, 3);
    expect(tally.describe(0, FILES)).toBe('2 outcome lines (errors.jsonl line 3, and 1 more)');
  });

  it('keeps records apart', () => {
    const tally = new OutcomeLineTally(2, FILES.length);
    tally.add(0, 0, 1);
    tally.add(1, 1, 2);
    tally.add(1, 1, 3);
    expect([...tally.conflicted()]).toEqual([1]);
    expect(tally.describe(1, FILES)).toBe('2 outcome lines (rejections.jsonl lines 2 and 3)');
  });
});
