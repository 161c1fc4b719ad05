import { invalidForProvider } from '../_shared/translate.js';

export const DEFAULT_API_VERSION = '2024-10-21';

/** The deployment comes from the model name and becomes a path segment: it must stay one. */
export function deploymentPath(deployment: string, op: 'chat/completions' | 'embeddings', apiVersion: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(deployment)) {
    throw invalidForProvider(`'${deployment.slice(0, 60)}' is not a valid Azure OpenAI deployment name.`, 'model');
  }
  return `/openai/deployments/${deployment}/${op}?api-version=${encodeURIComponent(apiVersion)}`;
}

export function checkApiVersion(v: string): string {
  if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(v)) throw new Error(`Azure OpenAI api-version '${v.slice(0, 40)}' is not of the form YYYY-MM-DD or YYYY-MM-DD-preview.`);
  return v;
}
