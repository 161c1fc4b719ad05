import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionChunk } from '../../core/openai-types.js';
import { replaySse } from '../_shared/replay.js';
import { azureOpenAI, createAzureOpenAIAdapter, mapAzureError } from './adapter.js';

const chunk = (delta: object, finish: string | null = null) => ({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }] });

describe('azure openai adapter', () => {
  it('sends the body without the model to the deployment path with api-version, key in api-key', () => {
    const spec = azureOpenAI.chat!.toUpstream({ model: 'azure-openai/prod-gpt4o', messages: [{ role: 'user', content: 'Hi' }], temperature: 0.1 }, 'prod-gpt4o');
    expect(spec.path).toBe('/openai/deployments/prod-gpt4o/chat/completions?api-version=2024-10-21');
    expect(spec.body).toEqual({ messages: [{ role: 'user', content: 'Hi' }], temperature: 0.1 });
    expect(azureOpenAI.authHeaders('k')).toEqual({ 'api-key': 'k' });
    expect(createAzureOpenAIAdapter({ apiVersion: '2025-01-01-preview' }).embeddings!.toUpstream({ model: 'x', input: 'a' }, 'emb').path).toBe('/openai/deployments/emb/embeddings?api-version=2025-01-01-preview');
  });

  it('asks for stream usage and refuses deployment names that leave their path segment', () => {
    const spec = azureOpenAI.chat!.toUpstream({ model: 'x', messages: [], stream: true }, 'd');
    expect(spec.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    for (const bad of ['../x', 'a/b', 'a?b', '']) expect(() => azureOpenAI.chat!.toUpstream({ model: 'x', messages: [] }, bad)).toThrow(GatewayError);
    expect(() => createAzureOpenAIAdapter({ apiVersion: 'latest&x=1' })).toThrow();
  });

  it('drops the prompt-filter chunk and folds usage into the finish chunk', () => {
    const body = [
      { choices: [], prompt_filter_results: [{ prompt_index: 0 }] },
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hi' }),
      chunk({}, 'stop'),
      { ...chunk({}), choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } },
    ].map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n';
    const out: ChatCompletionChunk[] = replaySse(body, azureOpenAI.chat!.createStreamMapper('d'));
    expect(out.map((c) => [c.choices[0].delta, c.choices[0].finish_reason, c.usage ?? null])).toEqual([
      [{ role: 'assistant', content: '' }, null, null],
      [{ content: 'Hi' }, null, null],
      [{}, 'stop', { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }],
    ]);
  });

  it('reports a stream cut before the finish chunk', () => {
    expect(() => replaySse(`data: ${JSON.stringify(chunk({ content: 'Hi' }))}\n\n`, azureOpenAI.chat!.createStreamMapper('d'))).toThrow(GatewayError);
  });

  it('maps errors', () => {
    expect(mapAzureError(429, { error: { code: '429', message: 'Requests have exceeded the call rate limit' } })).toMatchObject({ status: 429, type: 'rate_limit_error' });
    expect(mapAzureError(401, { error: { code: '401', message: 'Access denied due to invalid subscription key' } })).toMatchObject({ status: 401, type: 'authentication_error' });
    expect(mapAzureError(404, { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' } })).toEqual({ status: 404, type: 'not_found_error', code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' });
    expect(mapAzureError(500, 'x')).toMatchObject({ status: 502, type: 'upstream_error' });
  });
});
