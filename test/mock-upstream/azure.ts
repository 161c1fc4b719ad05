/**
 * A mock Azure OpenAI resource on loopback: one URL per deployment
 * (`/openai/deployments/{deployment}/chat/completions?api-version=...`, and `/embeddings`),
 * the `api-key` header, OpenAI's bodies with Azure's content-filter fields, and Azure's
 * stream shape (a first chunk with `choices: []` and `prompt_filter_results`; the usage
 * chunk when asked). https://learn.microsoft.com/azure/ai-services/openai/reference
 *
 *   deployment `broken`  500 on every call (a failing deployment, for the circuit breaker)
 *   anything else        "Hello from <deployment>"
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, startJsonMock, type JsonMock } from './json-mock.js';

export type { RecordedRequest } from './json-mock.js';
export type MockAzure = JsonMock;

const created = 1_700_000_000;
const filters = { hate: { filtered: false, severity: 'safe' }, self_harm: { filtered: false, severity: 'safe' }, sexual: { filtered: false, severity: 'safe' }, violence: { filtered: false, severity: 'safe' } };

export async function startMockAzure(): Promise<MockAzure> {
  function route(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown> | null): void {
    const url = new URL(req.url ?? '/', 'http://mock');
    if (!req.headers['api-key']) return json(res, 401, { error: { code: '401', message: 'Access denied due to invalid subscription key or wrong API endpoint.' } });
    if (!url.searchParams.get('api-version')) return json(res, 404, { error: { code: '404', message: 'Resource not found' } });
    const m = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(url.pathname);
    if (!m || !body) return json(res, 404, { error: { code: '404', message: 'Resource not found' } });
    const [, deployment, op] = m;
    if (deployment === 'broken') return json(res, 500, { error: { code: 'InternalServerError', message: 'The server had an error while processing your request.' } });
    if (op === 'embeddings') {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      return json(res, 200, { object: 'list', model: 'text-embedding-3-small', data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: [0.5, 0.25] })), usage: { prompt_tokens: 3, total_tokens: 3 } });
    }
    const answer = `Hello from ${deployment}`;
    const usage = { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 };
    if (body.stream !== true) {
      return json(res, 200, {
        id: 'chatcmpl-azure',
        object: 'chat.completion',
        created,
        model: 'gpt-4o-2024-08-06',
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: filters }],
        choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop', logprobs: null, content_filter_results: filters }],
        usage,
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => `data: ${JSON.stringify({ id: 'chatcmpl-azure', object: 'chat.completion.chunk', created, model: 'gpt-4o-2024-08-06', choices, ...extra })}\n\n`;
    res.write(`data: ${JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: filters }] })}\n\n`);
    res.write(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, content_filter_results: {} }]));
    for (const word of answer.split(/(?= )/)) res.write(chunk([{ index: 0, delta: { content: word }, finish_reason: null, content_filter_results: filters }]));
    res.write(chunk([{ index: 0, delta: {}, finish_reason: 'stop', content_filter_results: {} }]));
    if ((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage) res.write(chunk([], { usage }));
    res.end('data: [DONE]\n\n');
  }

  return startJsonMock('Azure', route);
}

