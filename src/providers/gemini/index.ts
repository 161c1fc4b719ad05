export { gemini, createGeminiAdapter, type GeminiOptions } from './adapter.js';
export { mapGeminiError } from './errors.js';
