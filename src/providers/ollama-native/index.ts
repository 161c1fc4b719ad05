export { ollamaNative, createOllamaNativeAdapter, type NdjsonProviderAdapter, type OllamaNativeOptions } from './adapter.js';
