/** OpenAI chat request -> Gemini generateContent / streamGenerateContent request. */
import type { ChatCompletionRequest, ChatMessage, ContentPart, ToolCall, ToolChoice } from '../../core/openai-types.js';
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
import { toGeminiSchema } from './schema.js';
import type { GeminiContent, GeminiGenerationConfig, GeminiPart, GeminiRequest, SignedToolCallExtra } from './wire.js';

export type GeminiOptions = TranslateOptions;

const PROVIDER = 'Gemini';

export const GEMINI_UNSUPPORTED: readonly UnsupportedRule[] = [
  // candidateCount exists but streams interleave candidates; one choice keeps the mapping exact.
  { param: 'n', isSet: notOne },
  { param: 'logprobs' },
  { param: 'top_logprobs', isSet: positive },
  { param: 'logit_bias', isSet: nonEmpty },
  { param: 'audio' },
  { param: 'modalities', isSet: (v) => Array.isArray(v) && v.some((m) => m !== 'text') },
  { param: 'prediction' },
  { param: 'functions' },
  { param: 'function_call' },
  { param: 'parallel_tool_calls', isSet: (v) => v === false },
  { param: 'reasoning_effort' },
  { param: 'web_search_options' },
];

/** Model ids are one path segment; anything that could walk the path is refused. */
export function modelPath(input: string): string {
  // Gemini's own resource names read `models/<id>`; accept that spelling too.
  const model = input.startsWith('models/') ? input.slice(7) : input;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(model)) throw invalidForProvider(`'${model.slice(0, 60)}' is not a valid Gemini model id.`, 'model');
  return `/v1beta/models/${model}`;
}

export function toGeminiRequest(req: ChatCompletionRequest, model: string, opts: GeminiOptions = {}): UpstreamRequestSpec {
  checkRequestShape(req, PROVIDER);
  checkUnsupported(req, PROVIDER, GEMINI_UNSUPPORTED, opts);
  const { system, contents } = translateMessages(req.messages);
  const body: GeminiRequest = { contents };
  if (system) body.systemInstruction = { parts: [{ text: system }] };

  const gc: GeminiGenerationConfig = {};
  if (typeof req.temperature === 'number') gc.temperature = req.temperature;
  if (typeof req.top_p === 'number') gc.topP = req.top_p;
  const max = maxTokensOf(req);
  if (typeof max === 'number') gc.maxOutputTokens = max;
  const stops = stopList(req.stop);
  if (stops) gc.stopSequences = stops;
  if (typeof req.seed === 'number') gc.seed = req.seed;
  if (typeof req.presence_penalty === 'number' && req.presence_penalty !== 0) gc.presencePenalty = req.presence_penalty;
  if (typeof req.frequency_penalty === 'number' && req.frequency_penalty !== 0) gc.frequencyPenalty = req.frequency_penalty;
  const rf = req.response_format;
  if (rf && rf.type !== 'text') {
    gc.responseMimeType = 'application/json';
    if (rf.type === 'json_schema') {
      const schema = rf.json_schema?.schema;
      if (!schema || typeof schema !== 'object') throw invalidForProvider('response_format.json_schema.schema must be a JSON schema object.', 'response_format');
      gc.responseSchema = toGeminiSchema(schema) as Record<string, unknown>;
    }
  }
  if (Object.keys(gc).length) body.generationConfig = gc;

  if (req.tools?.length) {
    body.tools = [{
      functionDeclarations: req.tools.map((t) => ({
        name: t.function.name,
        ...(t.function.description ? { description: t.function.description } : {}),
        ...(t.function.parameters ? { parameters: toGeminiSchema(t.function.parameters) as Record<string, unknown> } : {}),
      })),
    }];
  }
  const tc = toolConfig(req.tool_choice);
  if (tc) body.toolConfig = tc;

  const path = `${modelPath(model)}:${req.stream === true ? 'streamGenerateContent?alt=sse' : 'generateContent'}`;
  return { path, body };
}

function toolConfig(choice: ToolChoice | undefined): GeminiRequest['toolConfig'] {
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (choice && typeof choice === 'object') return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
  return undefined;
}

function translateMessages(input: ChatMessage[]): { system: string; contents: GeminiContent[] } {
  const system: string[] = [];
  const contents: GeminiContent[] = [];
  const append = (role: GeminiContent['role'], parts: GeminiPart[]) => {
    if (!parts.length) return;
    const last = contents[contents.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  input.forEach((m, i) => {
    switch (m.role) {
      case 'system':
      case 'developer':
        if (typeof m.content !== 'string' && m.content?.some((p) => p.type !== 'text')) throw invalidForProvider('A system message may contain only text.', 'messages');
        system.push(textOf(m.content));
        break;
      case 'user':
        append('user', typeof m.content === 'string' ? [{ text: m.content }] : (m.content ?? []).map(partToGemini));
        break;
      case 'assistant':
        append('model', modelParts(m));
        break;
      case 'tool':
        // Consecutive tool results merge into one user turn, as Gemini expects for parallel calls.
        append('user', [{ functionResponse: { name: toolNameFor(input, i), response: toolResponse(textOf(m.content)) } }]);
        break;
      default:
        throw unsupportedParam(`messages[].role=${m.role}`, PROVIDER);
    }
  });
  return { system: system.filter(Boolean).join('\n\n'), contents };
}

/** Gemini matches results by function name: find the call this tool_call_id answered. */
function toolNameFor(messages: ChatMessage[], at: number): string {
  const id = messages[at].tool_call_id;
  for (let j = at - 1; j >= 0; j--) {
    const call = messages[j].tool_calls?.find((c) => c.id === id);
    if (call) return call.function.name;
  }
  const name = messages[at].name;
  if (typeof name === 'string' && name) return name;
  throw invalidForProvider(`No assistant tool call with id '${String(id).slice(0, 60)}' precedes this tool message.`, 'messages');
}

/** functionResponse.response must be an object: JSON objects pass, anything else is wrapped. */
function toolResponse(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    return { result: v };
  } catch {
    return { result: text };
  }
}

function modelParts(m: ChatMessage): GeminiPart[] {
  const parts: GeminiPart[] = [];
  const text = textOf(m.content);
  if (text) parts.push({ text });
  for (const call of (m.tool_calls ?? []) as Array<ToolCall & SignedToolCallExtra>) {
    const sig = call.extra_content?.google?.thought_signature;
    parts.push({ functionCall: { name: call.function.name, args: parseToolArguments(call.function.arguments, PROVIDER) }, ...(typeof sig === 'string' ? { thoughtSignature: sig } : {}) });
  }
  return parts;
}

const MIME_BY_EXT: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', heic: 'image/heic', heif: 'image/heif' };

function partToGemini(p: ContentPart): GeminiPart {
  if (p.type === 'text' && typeof p.text === 'string') return { text: p.text };
  if (p.type === 'image_url') {
    const url = (p as { image_url?: { url?: unknown } }).image_url?.url;
    if (typeof url !== 'string') throw invalidForProvider('image_url.url must be a string.', 'messages');
    const data = parseDataUrl(url);
    if (data) return { inlineData: { mimeType: data.mediaType, data: data.data } };
    if (/^https?:\/\//i.test(url)) {
      // A Files API URI would read a file another caller of the account uploaded: that is
      // the account-wide `files` group, never reached through a translated image.
      const parsed = URL.canParse(url) ? new URL(url) : null;
      if (!parsed) throw invalidForProvider('image_url.url is not a valid URL.', 'messages');
      if (/(^|\.)googleapis\.com$/i.test(parsed.hostname)) {
        throw invalidForProvider('An image URL may not point at the Gemini Files API (an account-wide resource); send the image as a base64 data: URL or a public URL.', 'messages');
      }
      // fileData needs a MIME type; it is read from the extension, JPEG when there is none.
      const ext = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(parsed.pathname)?.[1]?.toLowerCase() ?? '';
      return { fileData: { mimeType: MIME_BY_EXT[ext] ?? 'image/jpeg', fileUri: url } };
    }
    throw invalidForProvider('An image must be an http(s) URL or a base64 data: URL.', 'messages');
  }
  throw unsupportedParam(`content part type '${String(p.type).slice(0, 40)}'`, PROVIDER);
}
