/**
 * JSON schemas of the public bodies, compiled once by Fastify's validator. They check what
 * the gateway relies on and let unknown fields through untouched (providers add fields
 * faster than gateways do).
 */
const nullableNumber = (min?: number, max?: number) => ({ type: ['number', 'null'], ...(min !== undefined ? { minimum: min } : {}), ...(max !== undefined ? { maximum: max } : {}) });

// A function's name: the translators read it for every tool, tool call and forced choice.
const functionRef = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 256 } } } as const;
// The function is required unless another tool type (OpenAI's `custom`) says otherwise.
const requireFunctionUnlessOtherType = { if: { not: { required: ['type'], properties: { type: { not: { const: 'function' } } } } }, then: { required: ['function'] } } as const;

/** A content part must say what it is; a null or bare part is refused, not crashed on. */
const contentPart = { type: 'object', required: ['type'], properties: { type: { type: 'string', minLength: 1 } } } as const;

const toolCall = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string', minLength: 1 },
    type: { type: 'string' },
    function: { ...functionRef, properties: { ...functionRef.properties, arguments: { type: 'string' } } },
  },
  ...requireFunctionUnlessOtherType,
} as const;

const tool = {
  type: 'object',
  properties: {
    type: { type: 'string' },
    function: { ...functionRef, properties: { ...functionRef.properties, description: { type: 'string' }, parameters: { type: 'object' } } },
  },
  ...requireFunctionUnlessOtherType,
} as const;

export const chatCompletionBodySchema = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 256 },
    messages: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['role'],
        properties: {
          role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant', 'tool', 'function'] },
          content: { type: ['string', 'array', 'null'], items: contentPart },
          name: { type: 'string' },
          tool_call_id: { type: 'string' },
          tool_calls: { type: 'array', items: toolCall },
        },
      },
    },
    stream: { type: ['boolean', 'null'] },
    stream_options: { type: ['object', 'null'] },
    max_tokens: { type: ['integer', 'null'], minimum: 1 },
    max_completion_tokens: { type: ['integer', 'null'], minimum: 1 },
    temperature: nullableNumber(0, 2),
    top_p: nullableNumber(0, 1),
    n: { type: ['integer', 'null'], minimum: 1, maximum: 128 },
    stop: { type: ['string', 'array', 'null'] },
    tools: { type: 'array', items: tool },
    // 'none' | 'auto' | 'required', or an object naming the function (or another OpenAI shape).
    tool_choice: { type: ['string', 'object', 'null'], if: { type: 'object', properties: { type: { const: 'function' } } }, then: { required: ['function'], properties: { function: functionRef } } },
    user: { type: 'string' },
  },
} as const;

export const embeddingsBodySchema = {
  type: 'object',
  required: ['model', 'input'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 256 },
    input: { type: ['string', 'array'] },
    encoding_format: { type: 'string', enum: ['float', 'base64'] },
    dimensions: { type: 'integer', minimum: 1 },
    user: { type: 'string' },
  },
} as const;
