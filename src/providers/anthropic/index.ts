export { anthropic, createAnthropicAdapter, type AnthropicOptions } from './adapter.js';
export { mapAnthropicError } from './errors.js';
