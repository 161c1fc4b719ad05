/** OpenAI chat request -> Ollama native `/api/chat` request (https://github.com/ollama/ollama/blob/main/docs/api.md). */
import type { ChatCompletionRequest, ChatMessage, ContentPart } from '../../core/openai-types.js';
import type { UpstreamRequestSpec } from '../../core/provider.js';
import {
  checkRequestShape,
  checkUnsupported,
  invalidForProvider,
  maxTokensOf,
  nonEmpty,
  notOne,
  positive,
  parseDataUrl,
  parseToolArguments,
  stopList,
  textOf,
  unsupportedParam,
  type TranslateOptions,
  type UnsupportedRule,
} from '../_shared/translate.js';

export type OllamaNativeOptions = TranslateOptions;

const PROVIDER = 'Ollama';

export const OLLAMA_UNSUPPORTED: readonly UnsupportedRule[] = [
  { param: 'n', isSet: notOne },
  { param: 'logprobs' },
  { param: 'top_logprobs', isSet: positive },
  { param: 'logit_bias', isSet: nonEmpty },
  { param: 'audio' },
  { param: 'prediction' },
  { param: 'functions' },
  { param: 'function_call' },
  // Ollama has no way to force a tool call.
  { param: 'tool_choice', isSet: (v) => v !== undefined && v !== null && v !== 'auto' && v !== 'none' },
];

interface OllamaMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  images?: string[];
  tool_calls?: Array<{ function: { name: string; arguments: Record<string, unknown> } }>;
  tool_name?: string;
}

export function modelName(model: string): string {
  // Ollama names look like `llama3.2:3b` or `user/model:tag`; nothing that walks a path.
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/.test(model) || model.includes('..')) throw invalidForProvider(`'${model.slice(0, 60)}' is not a valid Ollama model name.`, 'model');
  return model;
}

export function toOllamaRequest(req: ChatCompletionRequest, model: string, opts: OllamaNativeOptions = {}): UpstreamRequestSpec {
  checkRequestShape(req, PROVIDER);
  checkUnsupported(req, PROVIDER, OLLAMA_UNSUPPORTED, opts);
  const options: Record<string, unknown> = {};
  if (typeof req.temperature === 'number') options.temperature = req.temperature;
  if (typeof req.top_p === 'number') options.top_p = req.top_p;
  const max = maxTokensOf(req);
  if (typeof max === 'number') options.num_predict = max;
  const stops = stopList(req.stop);
  if (stops) options.stop = stops;
  if (typeof req.seed === 'number') options.seed = req.seed;
  if (typeof req.presence_penalty === 'number') options.presence_penalty = req.presence_penalty;
  if (typeof req.frequency_penalty === 'number') options.frequency_penalty = req.frequency_penalty;

  // Ollama streams unless told not to: always say which.
  const body: Record<string, unknown> = { model: modelName(model), messages: translateMessages(req.messages), stream: req.stream === true };
  if (Object.keys(options).length) body.options = options;
  if (req.tools?.length && req.tool_choice !== 'none') body.tools = req.tools.map((t) => ({ type: 'function', function: t.function }));
  const rf = req.response_format;
  if (rf?.type === 'json_object') body.format = 'json';
  else if (rf?.type === 'json_schema') {
    const schema = rf.json_schema?.schema;
    if (!schema || typeof schema !== 'object') throw invalidForProvider('response_format.json_schema.schema must be a JSON schema object.', 'response_format');
    body.format = schema;
  }
  return { path: '/api/chat', body };
}

function translateMessages(input: ChatMessage[]): OllamaMessage[] {
  return input.map((m, i): OllamaMessage => {
    switch (m.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: textOf(m.content) };
      case 'user': {
        const images = typeof m.content === 'string' || !m.content ? [] : m.content.filter((p) => p.type === 'image_url').map(imageData);
        const other = typeof m.content === 'string' || !m.content ? [] : m.content.filter((p) => p.type !== 'text' && p.type !== 'image_url');
        if (other.length) throw unsupportedParam(`content part type '${String(other[0].type).slice(0, 40)}'`, PROVIDER);
        return { role: 'user', content: textOf(m.content), ...(images.length ? { images } : {}) };
      }
      case 'assistant': {
        const calls = (m.tool_calls ?? []).map((c) => ({ function: { name: c.function.name, arguments: parseToolArguments(c.function.arguments, PROVIDER) } }));
        return { role: 'assistant', content: textOf(m.content), ...(calls.length ? { tool_calls: calls } : {}) };
      }
      case 'tool':
        return { role: 'tool', content: textOf(m.content), ...toolName(input, i) };
      default:
        throw unsupportedParam(`messages[].role=${m.role}`, PROVIDER);
    }
  });
}

/** Ollama matches tool results by name: find the call this tool_call_id answered. */
function toolName(messages: ChatMessage[], at: number): { tool_name?: string } {
  const id = messages[at].tool_call_id;
  for (let j = at - 1; j >= 0; j--) {
    const call = messages[j].tool_calls?.find((c) => c.id === id);
    if (call) return { tool_name: call.function.name };
  }
  return {};
}

function imageData(p: ContentPart): string {
  const url = (p as { image_url?: { url?: unknown } }).image_url?.url;
  const data = typeof url === 'string' ? parseDataUrl(url) : null;
  // Ollama takes base64 only; fetching a client's URL from the gateway would be an SSRF door.
  if (!data) throw unsupportedParam('image_url with an http(s) URL', PROVIDER, 'send the image as a base64 data: URL');
  return data.data;
}
