export * from './errors.js';
export * from './redact.js';
export * from './openai-types.js';
export * from './provider.js';
