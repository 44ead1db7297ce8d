import { readFile } from 'node:fs/promises';

/** A blank line is not a line (the contract skips it); the rest are, terminated or not. */
function isLine(segment: Buffer): boolean {
  return segment.toString('utf8').replace(/\r$/, '').trim() !== '';
}

/** How many lines a container wrote, as the contract counts them. */
export function countLines(bytes: Buffer): number {
  let count = 0;
  let start = 0;
  for (let nl = bytes.indexOf(0x0a); nl !== -1; nl = bytes.indexOf(0x0a, start)) {
    if (isLine(bytes.subarray(start, nl))) count++;
    start = nl + 1;
  }
  if (start < bytes.length && isLine(bytes.subarray(start))) count++;
  return count;
}

/** The non-blank lines of a file a stage wrote. */
export async function fileLines(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return text.split('\n').filter((l) => l.trim() !== '');
}
