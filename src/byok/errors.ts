/**
 * What a split-key request can be refused with. Messages never carry a header value, a key
 * or a client part; a missing row and a wrong client part read the same.
 */
import { GatewayError } from '../core/errors.js';

export const ID_HEADER = 'X-Partial-Key-Id';
export const PART_HEADER = 'X-Partial-Key';

export const splitKeyErrors = {
  missingHeader: (missing: string, sent: string) =>
    new GatewayError(400, 'invalid_request_error', 'missing_split_key_header', `${sent} was sent without ${missing}: send both split-key headers or neither.`, { param: missing }),
  malformedHeader: (header: string) =>
    new GatewayError(
      400,
      'invalid_request_error',
      'malformed_split_key',
      header === ID_HEADER ? `${ID_HEADER} is malformed: expected the id returned at creation (kgsk_...).` : `${PART_HEADER} is malformed: expected the client part returned at creation (kg-sp-...).`,
      { param: header },
    ),
  noCaller: () =>
    new GatewayError(401, 'authentication_error', 'missing_api_key', 'Split keys need an authenticated caller: send Authorization: Bearer kg-... as well.'),
  noOwner: () =>
    new GatewayError(403, 'permission_error', 'split_key_owner_unknown', 'This credential belongs to no user or key, so it cannot own split keys; use a keygate key or a token issued to one.'),
  invalid: () =>
    new GatewayError(401, 'authentication_error', 'invalid_split_key', 'The split key could not be opened: check X-Partial-Key-Id and X-Partial-Key.'),
  revoked: () => new GatewayError(401, 'authentication_error', 'revoked_split_key', 'This split key has been revoked or rotated.'),
  notOwned: () => new GatewayError(403, 'permission_error', 'split_key_not_owned', 'This split key belongs to another caller.'),
  wrongProvider: (made: string, routed: string) =>
    new GatewayError(403, 'permission_error', 'split_key_wrong_provider', `This split key was made for '${made}' but the request routes to '${routed}'.`),
  disabled: () => new GatewayError(404, 'not_found_error', 'not_found', 'Split keys are not enabled on this gateway.'),
  notFound: () => new GatewayError(404, 'not_found_error', 'not_found', 'No split key with this id among yours.'),
  notActive: () => new GatewayError(409, 'invalid_request_error', 'split_key_not_active', 'This split key has been revoked or rotated; create a new one.'),
};
