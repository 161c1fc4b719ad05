/** keygate as a library: the public API, one export per line. */
export { CompletionClient, type CompletionClientOptions, type KeyManager } from './client/completion-client.js';
