import { imageAllowed, imageNotAllowedMessage } from '#osa/domain';
import { badRequest } from '../api/validation.js';
import { assertScopes } from './scope-check.js';
import type { Principal } from './scopes.js';

/**
 * Replay's `image` override chooses what runs against the data volume: it needs
 * `conventions:write` (403 naming it) and must match ALLOWED_IMAGE_PREFIXES (400 naming the
 * image and the prefixes). The API and the run pages both call this before replaying.
 */
export function authorizeImageOverride(
  principal: Principal | undefined,
  image: string | undefined,
  allowedPrefixes: readonly string[],
  what = 'replay request',
): void {
  if (!image) return;
  assertScopes(principal, ['conventions:write'], 'an image override chooses what runs');
  if (!imageAllowed(image, allowedPrefixes)) throw badRequest(what, [{ field: 'image', message: imageNotAllowedMessage(image, allowedPrefixes) }]);
}
