const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  ki: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mi: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gi: 1024 ** 3,
  t: 1024 ** 4,
  ti: 1024 ** 4,
};

/**
 * Parses a memory size such as `256m`, `1.5g` or `512Mi` into bytes. Units are binary
 * (1g = 1024 MiB), as container runtimes treat them. Returns undefined for anything else.
 */
export function parseMemory(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]{0,2})\s*$/.exec(text);
  if (!match) return undefined;
  const factor = UNITS[match[2]!.toLowerCase()];
  if (factor === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * factor);
  return bytes > 0 ? bytes : undefined;
}

/** Formats bytes the way operators write limits: `2g`, `768m`. */
export function formatMemory(bytes: number): string {
  const gib = bytes / 1024 ** 3;
  if (Number.isInteger(gib)) return `${gib}g`;
  return `${Math.ceil(bytes / 1024 ** 2)}m`;
}
