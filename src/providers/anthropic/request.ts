/** OpenAI chat request -> Anthropic Messages API request. */
import type { ChatCompletionRequest, ChatMessage, ContentPart, ToolChoice } from '../../core/openai-types.js';
import type { UpstreamRequestSpec } from '../../core/provider.js';
import {
  checkRequestShape,
  checkUnsupported,
  invalidForProvider,
  maxTokensOf,
  nonEmpty,
  notOne,
  notZero,
  positive,
  parseDataUrl,
  parseToolArguments,
  stopList,
  textOf,
  unsupportedParam,
  type TranslateOptions,
  type UnsupportedRule,
} from '../_shared/translate.js';
import {
  ANTHROPIC_VERSION,
  DEFAULT_MAX_TOKENS,
  JSON_TOOL_NAME,
  type AnthropicBlock,
  type AnthropicMessage,
  type AnthropicRequest,
  type AnthropicToolChoice,
} from './wire.js';

export interface AnthropicOptions extends TranslateOptions {
  /** Used when the request sets neither max_tokens nor max_completion_tokens. */
  defaultMaxTokens?: number;
}

const PROVIDER = 'Anthropic';

/** OpenAI parameters with no Messages API equivalent. */
export const ANTHROPIC_UNSUPPORTED: readonly UnsupportedRule[] = [
  { param: 'n', isSet: notOne },
  { param: 'logprobs' },
  { param: 'top_logprobs', isSet: positive },
  { param: 'presence_penalty', isSet: notZero },
  { param: 'frequency_penalty', isSet: notZero },
  { param: 'logit_bias', isSet: nonEmpty },
  { param: 'seed' },
  { param: 'audio' },
  { param: 'modalities', isSet: (v) => Array.isArray(v) && v.some((m) => m !== 'text') },
  { param: 'prediction' },
  { param: 'functions' },
  { param: 'function_call' },
  { param: 'reasoning_effort' },
  { param: 'web_search_options' },
];

export function toAnthropicRequest(req: ChatCompletionRequest, model: string, opts: AnthropicOptions = {}): UpstreamRequestSpec {
  checkRequestShape(req, PROVIDER);
  checkUnsupported(req, PROVIDER, ANTHROPIC_UNSUPPORTED, opts);
  const { system, messages } = translateMessages(req.messages);
  const body: AnthropicRequest = {
    model,
    messages,
    max_tokens: maxTokensOf(req) ?? opts.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
  };
  const systemParts = system ? [system] : [];
  if (req.stream === true) body.stream = true;
  if (typeof req.temperature === 'number') body.temperature = req.temperature;
  if (typeof req.top_p === 'number') body.top_p = req.top_p;
  const stops = stopList(req.stop);
  if (stops) body.stop_sequences = stops;
  if (typeof req.user === 'string' && req.user) body.metadata = { user_id: req.user };

  if (req.tools?.length) {
    body.tools = req.tools.map((t) => ({
      name: t.function.name,
      ...(t.function.description ? { description: t.function.description } : {}),
      input_schema: t.function.parameters ?? { type: 'object', properties: {} },
    }));
  }
  const choice = toolChoice(req.tool_choice, req.parallel_tool_calls === false);
  // Anthropic takes tool_choice only alongside tools.
  if (choice && body.tools) body.tool_choice = choice;

  const rf = req.response_format;
  if (rf && rf.type !== 'text') {
    const schema = rf.type === 'json_schema' ? jsonSchemaOf(rf.json_schema) : { type: 'object' };
    if (!body.tools) {
      // No tools of the client's own: force one whose input is the answer (Anthropic's "JSON mode").
      body.tools = [{ name: JSON_TOOL_NAME, description: 'Respond with the answer as this JSON object.', input_schema: schema }];
      body.tool_choice = { type: 'tool', name: JSON_TOOL_NAME };
    } else {
      // Forcing our tool would disable the client's tools: ask in the system prompt instead.
      systemParts.push(`Answer only with a valid JSON object${rf.type === 'json_schema' ? ` that follows this JSON schema: ${JSON.stringify(schema)}` : ''}. Do not add any text around it.`);
    }
  }
  if (systemParts.length) body.system = systemParts.join('\n\n');
  return { path: '/v1/messages', body, headers: { 'anthropic-version': ANTHROPIC_VERSION } };
}

function jsonSchemaOf(js: Record<string, unknown> | undefined): Record<string, unknown> {
  const schema = js?.schema;
  if (schema && typeof schema === 'object' && !Array.isArray(schema)) return schema as Record<string, unknown>;
  throw invalidForProvider("response_format.json_schema.schema must be a JSON schema object.", 'response_format');
}

function toolChoice(choice: ToolChoice | undefined, noParallel: boolean): AnthropicToolChoice | undefined {
  let out: AnthropicToolChoice | undefined;
  if (choice === 'auto') out = { type: 'auto' };
  else if (choice === 'none') out = { type: 'none' };
  else if (choice === 'required') out = { type: 'any' };
  else if (choice && typeof choice === 'object') out = { type: 'tool', name: choice.function.name };
  if (noParallel) out = { ...(out ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return out;
}

/** System/developer messages become the top-level system prompt; adjacent same-role turns merge. */
function translateMessages(input: ChatMessage[]): { system: string; messages: AnthropicMessage[] } {
  const system: string[] = [];
  const messages: AnthropicMessage[] = [];
  const append = (role: AnthropicMessage['role'], blocks: AnthropicBlock[]) => {
    if (!blocks.length) return;
    const last = messages[messages.length - 1];
    if (last && last.role === role) {
      // tool_result blocks must lead a user turn; a user's text after them follows.
      last.content.push(...blocks);
    } else messages.push({ role, content: blocks });
  };
  for (const m of input) {
    switch (m.role) {
      case 'system':
      case 'developer':
        if (typeof m.content !== 'string' && m.content?.some((p) => p.type !== 'text')) throw invalidForProvider('A system message may contain only text.', 'messages');
        system.push(textOf(m.content));
        break;
      case 'user':
        append('user', userBlocks(m.content));
        break;
      case 'assistant':
        append('assistant', assistantBlocks(m));
        break;
      case 'tool':
        if (typeof m.tool_call_id !== 'string') throw invalidForProvider("A 'tool' message needs tool_call_id.", 'messages');
        append('user', [{ type: 'tool_result', tool_use_id: m.tool_call_id, content: textOf(m.content) }]);
        break;
      default:
        throw unsupportedParam(`messages[].role=${m.role}`, PROVIDER);
    }
  }
  return { system: system.filter(Boolean).join('\n\n'), messages };
}

function userBlocks(content: ChatMessage['content']): AnthropicBlock[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.map(partToBlock);
}

function partToBlock(p: ContentPart): AnthropicBlock {
  if (p.type === 'text' && typeof p.text === 'string') return { type: 'text', text: p.text };
  if (p.type === 'image_url') {
    const url = (p as { image_url?: { url?: unknown } }).image_url?.url;
    if (typeof url !== 'string') throw invalidForProvider('image_url.url must be a string.', 'messages');
    const data = parseDataUrl(url);
    if (data) return { type: 'image', source: { type: 'base64', media_type: data.mediaType, data: data.data } };
    if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
    throw invalidForProvider('An image must be an http(s) URL or a base64 data: URL.', 'messages');
  }
  throw unsupportedParam(`content part type '${String(p.type).slice(0, 40)}'`, PROVIDER);
}

function assistantBlocks(m: ChatMessage): AnthropicBlock[] {
  const blocks: AnthropicBlock[] = [];
  const text = textOf(m.content);
  // Anthropic refuses empty text blocks; an assistant turn with only tool calls has none.
  if (text) blocks.push({ type: 'text', text });
  for (const call of m.tool_calls ?? []) {
    blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseToolArguments(call.function.arguments, PROVIDER) });
  }
  return blocks;
}
