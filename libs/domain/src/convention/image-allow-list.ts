import type { Convention } from './convention.schema.js';

/** Characters that start a tag or digest in an image reference. */
const TAG_OR_DIGEST = new Set([':', '@']);

/**
 * Whether `image` is under one of the allowed prefixes. A prefix matches only at a boundary of
 * the reference: `registry.example.org/osa` allows `registry.example.org/osa/hook:1` and
 * `registry.example.org/osa:2`, never `registry.example.org/osa-evil/x`. A `:` or `@` ends a
 * prefix only after a path segment: after a bare host (`registry.example.org`) a `:` starts a
 * port, i.e. another registry, so a host-only prefix matches only when `/` follows it. Images
 * are compared as written (no `docker.io/library/` is filled in). An empty list allows every image.
 */
export function imageAllowed(image: string, prefixes: readonly string[]): boolean {
  if (!prefixes.length) return true;
  return prefixes.some((prefix) => image === prefix || (image.startsWith(prefix) && matchesAtBoundary(prefix, image.charAt(prefix.length))));
}

function matchesAtBoundary(prefix: string, next: string): boolean {
  const last = prefix.at(-1)!;
  if (last === '/' || next === '/') return true;
  // A prefix ending in `:` or `@` (a repository and the start of its tag) names its own boundary.
  const hasPath = prefix.includes('/');
  if (TAG_OR_DIGEST.has(last)) return hasPath;
  return hasPath && TAG_OR_DIGEST.has(next);
}

/** The message for an image outside the allow-list; names the image and every allowed prefix. */
export function imageNotAllowedMessage(image: string, prefixes: readonly string[]): string {
  return `image "${image}" is not allowed: ALLOWED_IMAGE_PREFIXES allows only ${prefixes.map((p) => `"${p}"`).join(', ')}`;
}

/** `field: message` for every image of the convention outside the allow-list. */
export function conventionImageProblems(convention: Pick<Convention, 'ingester' | 'hooks'>, prefixes: readonly string[]): string[] {
  const images = [
    { field: 'ingester.image', image: convention.ingester?.image },
    ...convention.hooks.map((hook, i) => ({ field: `hooks.${i}.image`, image: hook.image })),
  ];
  return images.flatMap(({ field, image }) =>
    image !== undefined && !imageAllowed(image, prefixes) ? [`${field}: ${imageNotAllowedMessage(image, prefixes)}`] : [],
  );
}

/** Parses a comma-separated prefix list (ALLOWED_IMAGE_PREFIXES); blank entries are dropped. */
export function parseImagePrefixes(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}
