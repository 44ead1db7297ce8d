import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BatchRecords } from './batch-records.js';

describe(BatchRecords.name, () => {
  it('finds every record by id, including non-ASCII ids, across table growth', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'osa-batch-records-'));
    const ids = Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? `échantillon-${i}-🪨` : `rec-${i}`));
    const file = path.join(dir, 'records.jsonl');
    await writeFile(file, ids.map((id, i) => JSON.stringify({ id, metadata: {}, size_hint_mb: i / 10 })).join('\n') + '\n');
    const records = await BatchRecords.read(file);
    expect(records.size).toBe(5000);
    ids.forEach((id, i) => {
      expect(records.positionOf(id)).toBe(i);
      expect(records.idAt(i)).toBe(id);
    });
    expect(records.sizeHintMb(30)).toBeCloseTo(3);
    expect(records.positionOf('rec-5000')).toBeUndefined();
    expect(records.positionOf('')).toBeUndefined();
    await rm(dir, { recursive: true });
  });
});
