/**
 * A mock Ollama server on loopback speaking its native API
 * (https://github.com/ollama/ollama/blob/main/docs/api.md): `POST /api/chat` (JSON with
 * `stream: false`, otherwise NDJSON lines ending with `done: true` and the counts), tool
 * calls (arguments as an object, no ids) when the request has tools and its last turn is not
 * a tool result, and `POST /api/embed`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, startJsonMock, type JsonMock } from './json-mock.js';

export type { RecordedRequest } from './json-mock.js';
export type MockOllama = JsonMock;

export const OLLAMA_EMBEDDING = [0.5, -0.25, 0.125];

export async function startMockOllama(): Promise<MockOllama> {
  function route(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown> | null): void {
    if (req.method !== 'POST' || !body) return json(res, 404, { error: '404 page not found' });
    const model = String(body.model ?? '');
    if (req.url === '/api/embed') {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      return json(res, 200, { model, embeddings: inputs.map(() => OLLAMA_EMBEDDING), total_duration: 1000, load_duration: 10, prompt_eval_count: 3 * inputs.length });
    }
    if (req.url !== '/api/chat') return json(res, 404, { error: '404 page not found' });
    const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role?: string }>) : [];
    const tools = Array.isArray(body.tools) ? (body.tools as Array<{ function?: { name?: string } }>) : [];
    const callTool = tools.length > 0 && messages.at(-1)?.role !== 'tool';
    const at = '2025-01-01T00:00:00Z';
    const final = { model, created_at: at, done: true, done_reason: 'stop', total_duration: 1000, prompt_eval_count: 7, eval_count: 3 };
    const toolMessage = { role: 'assistant', content: '', tool_calls: [{ function: { name: tools[0]?.function?.name ?? 'f', arguments: { city: 'Paris' } } }] };
    if (body.stream === false) {
      return json(res, 200, { ...final, message: callTool ? toolMessage : { role: 'assistant', content: 'Hello from Ollama' } });
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const line = (o: unknown) => res.write(`${JSON.stringify(o)}\n`);
    if (callTool) line({ model, created_at: at, message: toolMessage, done: false });
    else for (const piece of ['Hello', ' from', ' Ollama']) line({ model, created_at: at, message: { role: 'assistant', content: piece }, done: false });
    res.end(`${JSON.stringify({ ...final, message: { role: 'assistant', content: '' } })}\n`);
  }

  return startJsonMock('Ollama', route);
}

