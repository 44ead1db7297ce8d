/** Keeps the last `max` lines of a stream of chunks, for diagnostics after a container exits. */
export class LogTail {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(private readonly max: number) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.add(line);
    // A process that never prints a newline must not grow the buffer without bound.
    if (this.partial.length > 4096) {
      this.add(this.partial);
      this.partial = '';
    }
  }

  snapshot(): string[] {
    return this.partial ? [...this.lines, this.partial].slice(-this.max) : [...this.lines];
  }

  private add(line: string): void {
    this.lines.push(line.length > 1000 ? `${line.slice(0, 999)}…` : line);
    if (this.lines.length > this.max) this.lines.shift();
  }
}
