/**
 * JSON schemas of the public bodies, compiled once by Fastify's validator. They check what
 * the gateway relies on and let unknown fields through untouched (providers add fields
 * faster than gateways do).
 */
const nullableNumber = (min?: number, max?: number) => ({ type: ['number', 'null'], ...(min !== undefined ? { minimum: min } : {}), ...(max !== undefined ? { maximum: max } : {}) });

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
          content: { type: ['string', 'array', 'null'] },
          name: { type: 'string' },
          tool_call_id: { type: 'string' },
          tool_calls: { type: 'array' },
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
    tools: { type: 'array' },
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
