type Requirement = (labels: Record<string, string>) => boolean;

/**
 * Parses a Kubernetes label selector (`a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`,
 * `a notin (x,y)`, comma-separated) into a predicate. Throws on syntax it does not know.
 */
export function labelSelector(selector: string | null | undefined): Requirement {
  const requirements: Requirement[] = [];
  for (const part of splitTopLevel(selector ?? '')) {
    const term = part.trim();
    if (!term) continue;
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const [, key, op, values] = m;
      const set = new Set(values!.split(',').map((v) => v.trim()));
      requirements.push(op === 'in' ? (l) => set.has(l[key!]!) : (l) => !set.has(l[key!]!));
    } else if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(term))) {
      const [, key, op, value] = m;
      requirements.push(op === '!=' ? (l) => l[key!] !== value : (l) => l[key!] === value);
    } else if ((m = /^!([\w./-]+)$/.exec(term))) {
      const key = m[1]!;
      requirements.push((l) => !(key in l));
    } else if ((m = /^([\w./-]+)$/.exec(term))) {
      const key = m[1]!;
      requirements.push((l) => key in l);
    } else {
      throw new Error(`unable to parse requirement: "${term}"`);
    }
  }
  return (labels) => requirements.every((r) => r(labels ?? {}));
}

/** Field selectors the simulator supports: metadata.name, metadata.namespace, status.phase (=, ==, !=). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- simulator objects are untyped JSON
export function fieldSelector(selector: string | null | undefined): (obj: Record<string, any>) => boolean {
  const tests = (selector ?? '')
    .split(',')
    .filter((t) => t.trim())
    .map((term) => {
      const m = /^\s*([\w.]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
      if (!m || !['metadata.name', 'metadata.namespace', 'status.phase', 'spec.nodeName'].includes(m[1]!)) {
        throw new Error(`field label not supported: ${term}`);
      }
      const [, field, op, value] = m;
      const read = (o: Record<string, any>): unknown => field!.split('.').reduce<any>((v, k) => v?.[k], o) ?? ''; // eslint-disable-line @typescript-eslint/no-explicit-any
      return op === '!=' ? (o: Record<string, any>) => read(o) !== value : (o: Record<string, any>) => read(o) === value; // eslint-disable-line @typescript-eslint/no-explicit-any
    });
  return (obj) => tests.every((t) => t(obj));
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}
