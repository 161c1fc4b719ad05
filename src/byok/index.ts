/** BYOK split keys: users' own provider keys, split between the server and the client. */
export { SplitKeyService, ownerOf, type SplitKeyServiceOptions, type CreatedKey } from './service.js';
export { SplitKeyRepository, statusOf, toRecord, type SplitKeyRow, type SplitKeyStatus, type UseTally } from './repository.js';
export { loadServerSecret, ServerSecretError, SPLIT_KEY_SECRET_NAME } from './server-secret.js';
export { UseCounter, type UseCounterOptions } from './use-counter.js';
export { splitKeyErrors, ID_HEADER, PART_HEADER } from './errors.js';
export { splitKeyView, type SplitKeyView } from './view.js';
