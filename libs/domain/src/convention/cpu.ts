/** Kubernetes refuses CPU quantities finer than one millicore. */
const CPU_PATTERN = /^(?:(\d+)(?:\.(\d{1,3}))?|(\d+)m)$/;

/** The most CPU a container may ask for: more than any node offers, so such a pod never runs. */
export const MAX_CPU_MILLICORES = 4096 * 1000;

/**
 * Parses a Kubernetes CPU quantity into millicores: cores with at most three decimals (`0.5`,
 * `2`, also given as a number) or millicores (`250m`). Numbers get no pass: `1e+308` or `1e-7`
 * are not quantities Kubernetes accepts. Returns undefined for anything else, zero, or more than
 * MAX_CPU_MILLICORES.
 */
export function parseCpu(value: string | number): number | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  const match = CPU_PATTERN.exec(text);
  if (!match) return undefined;
  const millicores = match[3] !== undefined ? Number(match[3]) : Number(match[1]) * 1000 + Number((match[2] ?? '').padEnd(3, '0'));
  return millicores > 0 && millicores <= MAX_CPU_MILLICORES ? millicores : undefined;
}
