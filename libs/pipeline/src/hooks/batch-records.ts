import { readJsonLines } from '#osa/storage';

/**
 * The records of a batch as the hook stage needs them: id, where its line is in the hooks'
 * input, and its size hint — in flat buffers and typed arrays, with an open-addressing index from
 * id to position. An object, string or map entry per record would not fit a 500,000-record batch
 * into a hook-runner's memory. Records are addressed by their position in the batch.
 */
export class BatchRecords {
  private count = 0;
  private idBytes = Buffer.alloc(64 * 1024);
  private idBytesUsed = 0;
  private idStart = new Uint32Array(1024);
  private idLength = new Uint32Array(1024);
  private offsets = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  private sizes = new Float32Array(1024);
  /** Open addressing: position + 1 per slot, 0 when empty. */
  private table = new Int32Array(2048);

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
    return this.count;
  }

  idAt(position: number): string {
    const start = this.idStart[position]!;
    return this.idBytes.toString('utf8', start, start + this.idLength[position]!);
  }

  positionOf(id: string): number | undefined {
    const mask = this.table.length - 1;
    for (let slot = hash(id) & mask; ; slot = (slot + 1) & mask) {
      const entry = this.table[slot]!;
      if (entry === 0) return undefined;
      if (this.idEquals(entry - 1, id)) return entry - 1;
    }
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
    const position = this.count;
    if (position === this.offsets.length) {
      this.offsets = grow(this.offsets);
      this.lengths = grow(this.lengths);
      this.sizes = grow(this.sizes);
      this.idStart = grow(this.idStart);
      this.idLength = grow(this.idLength);
    }
    const bytes = Buffer.byteLength(id);
    while (this.idBytesUsed + bytes > this.idBytes.length) {
      const next = Buffer.alloc(this.idBytes.length * 2);
      this.idBytes.copy(next, 0, 0, this.idBytesUsed);
      this.idBytes = next;
    }
    this.idBytes.write(id, this.idBytesUsed, 'utf8');
    this.idStart[position] = this.idBytesUsed;
    this.idLength[position] = bytes;
    this.idBytesUsed += bytes;
    this.offsets[position] = offset;
    this.lengths[position] = byteLength;
    this.sizes[position] = sizeHintMb;
    this.count++;
    if (this.count * 2 > this.table.length) this.rehash();
    else this.insert(id, position);
  }

  private insert(id: string, position: number): void {
    const mask = this.table.length - 1;
    let slot = hash(id) & mask;
    while (this.table[slot] !== 0) slot = (slot + 1) & mask;
    this.table[slot] = position + 1;
  }

  private rehash(): void {
    this.table = new Int32Array(this.table.length * 2);
    for (let p = 0; p < this.count; p++) this.insert(this.idAt(p), p);
  }

  private idEquals(position: number, id: string): boolean {
    return this.idLength[position] === Buffer.byteLength(id) && this.idAt(position) === id;
  }
}

/** FNV-1a over the UTF-16 code units. */
function hash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function grow<T extends Float64Array | Uint32Array | Float32Array>(a: T): T {
  const next = new (a.constructor as new (n: number) => T)(a.length * 2);
  next.set(a);
  return next;
}
