const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNPAIRED_SURROGATES = new RegExp(UNPAIRED_SURROGATE.source, 'g');

export const STORABLE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates (Postgres cannot store them)';

/**
 * Text that Postgres can store as `text` or inside `jsonb` and that survives UTF-8: no NUL and
 * no unpaired UTF-16 surrogate.
 */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !UNPAIRED_SURROGATE.test(text);
}

/** The same text with every NUL and unpaired surrogate replaced by U+FFFD, for text we keep anyway (reasons, log lines). */
export function toStorableText(text: string): string {
  return isStorableText(text) ? text : text.replaceAll('\u0000', '\ufffd').replace(UNPAIRED_SURROGATES, '\ufffd');
}
