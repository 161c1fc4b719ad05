export { azureOpenAI, createAzureOpenAIAdapter, mapAzureError, type AzureOpenAIOptions } from './adapter.js';
