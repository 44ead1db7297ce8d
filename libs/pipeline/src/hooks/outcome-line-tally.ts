/**
 * How many outcome lines one hook sub-run wrote for each record of a batch, and where: the
 * first and last line number per output file. Typed arrays by record position (28 bytes a
 * record), so a hook that writes every id many times costs no more memory than one that
 * writes each once, and a conflict can be described without keeping its lines.
 */
export class OutcomeLineTally {
  private readonly count: Uint32Array;
  /** Per position and file: first, then last line number (0: none). */
  private readonly lines: Uint32Array;

  constructor(
    private readonly size: number,
    private readonly files: number,
  ) {
    this.count = new Uint32Array(size);
    this.lines = new Uint32Array(size * files * 2);
  }

  /** Notes an outcome line; returns how many the record has now (1 for its first). */
  add(position: number, file: number, lineNumber: number): number {
    const at = (position * this.files + file) * 2;
    if (this.lines[at] === 0) this.lines[at] = lineNumber;
    this.lines[at + 1] = lineNumber;
    // Saturates rather than wraps, so a record never looks as if it had one line again.
    if (this.count[position]! < 0xffffffff) this.count[position]!++;
    return this.count[position]!;
  }

  /** Positions with more than one outcome line, in batch order. */
  *conflicted(): Generator<number> {
    for (let p = 0; p < this.size; p++) if (this.count[p]! > 1) yield p;
  }

  /** "4 outcome lines (features.jsonl lines 2 and 9, rejections.jsonl line 4, and 1 more)", in file order. */
  describe(position: number, fileNames: readonly string[]): string {
    const parts: string[] = [];
    let named = 0;
    for (let f = 0; f < this.files; f++) {
      const at = (position * this.files + f) * 2;
      const first = this.lines[at]!;
      const last = this.lines[at + 1]!;
      if (first === 0) continue;
      parts.push(first === last ? `${fileNames[f]} line ${first}` : `${fileNames[f]} lines ${first} and ${last}`);
      named += first === last ? 1 : 2;
    }
    const total = this.count[position]!;
    if (total > named) parts.push(`and ${total - named} more`);
    return `${total} outcome lines (${parts.join(', ')})`;
  }
}
