import { readJsonLines } from '#osa/storage';

/**
 * The records of a batch as the hook stage needs them: id, where its line is in the hooks'
 * input, and its size hint, in parallel typed arrays (an object per record would not fit a
 * 500,000-record batch into a hook-runner's memory). Records are addressed by their position.
 */
export class BatchRecords {
  readonly ids: string[] = [];
  private readonly positions = new Map<string, number>();
  private offsets = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  private sizes = new Float32Array(1024);

  private constructor(readonly hookInput: string) {}

  static async read(hookInput: string): Promise<BatchRecords> {
    const records = new BatchRecords(hookInput);
    for await (const line of readJsonLines(hookInput)) {
      const { id, size_hint_mb } = JSON.parse(line.text) as { id: string; size_hint_mb: number };
      records.add(id, line.offset, line.byteLength, size_hint_mb);
    }
    return records;
  }

  get size(): number {
    return this.ids.length;
  }

  positionOf(id: string): number | undefined {
    return this.positions.get(id);
  }

  offset(position: number): number {
    return this.offsets[position]!;
  }

  byteLength(position: number): number {
    return this.lengths[position]!;
  }

  sizeHintMb(position: number): number {
    return this.sizes[position]!;
  }

  private add(id: string, offset: number, byteLength: number, sizeHintMb: number): void {
    const position = this.ids.length;
    if (position === this.offsets.length) {
      this.offsets = grow(this.offsets);
      this.lengths = grow(this.lengths);
      this.sizes = grow(this.sizes);
    }
    this.ids.push(id);
    this.positions.set(id, position);
    this.offsets[position] = offset;
    this.lengths[position] = byteLength;
    this.sizes[position] = sizeHintMb;
  }
}

function grow<T extends Float64Array | Uint32Array | Float32Array>(a: T): T {
  const next = new (a.constructor as new (n: number) => T)(a.length * 2);
  next.set(a);
  return next;
}
