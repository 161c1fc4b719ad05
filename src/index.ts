/** keygate as a library: the public API, one export per line. */
export { CompletionClient, type CompletionClientOptions, type KeyManager } from './client/completion-client.js';
export { SecureKeyManager, KeyProvider, type SecureKeyManagerOptions } from './secrets/index.js';
export { APIGatewayAuth, type APIGatewayAuthOptions } from './auth/api-gateway-auth.js';
export { SecretString } from './crypto/secret-string.js';
export { Fernet, MultiFernet, generateFernetKey } from './crypto/fernet.js';
export { startGateway, type StartOptions, type RunningGateway } from './server/gateway.js';
export { createLimitStore, type LimitStore } from './limits/index.js';
export { scanRequest, scanAnswer, evaluate, defaultGuardPolicy } from './guard/index.js';
export { GatewayError } from './core/errors.js';
export type { ProviderAdapter } from './core/provider.js';
