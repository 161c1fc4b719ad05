import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionRequest } from '../../core/openai-types.js';
import { toAnthropicRequest } from '../anthropic/request.js';
import { toGeminiRequest } from '../gemini/request.js';
import { toOllamaRequest } from '../ollama-native/request.js';
import { checkUnsupported, unsupportedParam } from './translate.js';

const req = (extra: Record<string, unknown>): ChatCompletionRequest => ({ model: 'm', messages: [{ role: 'user', content: 'x' }], ...extra }) as ChatCompletionRequest;

function thrown(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('nothing was thrown');
}

// Library callers (CompletionClient) reach the translators without the HTTP schema.
describe.each([
  ['anthropic', (r: ChatCompletionRequest) => toAnthropicRequest(r, 'm')],
  ['gemini', (r: ChatCompletionRequest) => toGeminiRequest(r, 'm')],
  ['ollama-native', (r: ChatCompletionRequest) => toOllamaRequest(r, 'm')],
] as const)('%s translator: malformed shapes are a 400 naming the parameter', (_name, translate) => {
  it.each([
    [{ tools: [{}] }, 'tools[0].function.name'],
    [{ tools: [null] }, 'tools[0]'],
    [{ tools: [{ type: 'custom', custom: { name: 'x' } }] }, "tools[0].type 'custom'"],
    [{ tool_choice: { type: 'function' } }, 'tool_choice.function.name'],
    [{ messages: [{ role: 'user', content: [null] }] }, 'messages[0].content[0]'],
    [{ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c' }] }] }, 'messages[0].tool_calls[0].function.name'],
    [{ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', function: { name: 'f', arguments: { a: 1 } } }] }] }, 'messages[0].tool_calls[0].function.arguments'],
  ])('%j -> %s', (extra, param) => {
    const e = thrown(() => translate(req(extra)));
    expect(e.status).toBe(400);
    expect(e.param).toBe(param);
  });
});

describe('the unsupported-parameter message', () => {
  it('names the gateway-wide switch for droppable parameters', () => {
    const e = thrown(() => checkUnsupported(req({ n: 3 }), 'Anthropic', [{ param: 'n' }], {}));
    expect(e.message).toContain('models.dropUnsupportedParams: true');
    expect(e.message).not.toContain('for this provider');
  });

  it('does not offer the switch where it cannot help (a content part cannot be dropped)', () => {
    expect(unsupportedParam("content part type 'input_audio'", 'Anthropic').message).not.toContain('dropUnsupportedParams');
  });
});
