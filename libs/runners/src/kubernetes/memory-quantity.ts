const KI = 1024;
const MI = 1024 ** 2;
const GI = 1024 ** 3;

/**
 * Formats bytes as a Kubernetes quantity in the largest binary unit that represents it exactly:
 * 1.5 GiB → "1536Mi", 1 GiB → "1Gi". Never a bare "m" suffix: in Kubernetes that means
 * milli-units, so "256m" of memory would be a quarter of a byte.
 */
export function memoryQuantity(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes <= 0) throw new RangeError(`memory must be a positive whole number of bytes, got ${bytes}`);
  if (bytes % GI === 0) return `${bytes / GI}Gi`;
  if (bytes % MI === 0) return `${bytes / MI}Mi`;
  if (bytes % KI === 0) return `${bytes / KI}Ki`;
  return String(bytes);
}

const SUFFIX: Record<string, number> = {
  '': 1,
  Ki: KI,
  Mi: MI,
  Gi: GI,
  Ti: 1024 ** 4,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  m: 1e-3,
};

/** Parses a Kubernetes memory quantity ("1536Mi", "1G", "128974848") into bytes; undefined if malformed. */
export function parseMemoryQuantity(quantity: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T|m)?$/.exec(quantity.trim());
  if (!match) return undefined;
  return Math.ceil(Number(match[1]) * SUFFIX[match[2] ?? '']!);
}
