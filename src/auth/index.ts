export * from './scopes.js';
export * from './signing-keys.js';
export * from './signed-tokens.js';
export * from './api-gateway-auth.js';
export * from './ip-rules.js';
export * from './client-ip.js';
