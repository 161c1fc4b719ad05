/**
 * Gemini's `parameters` and `responseSchema` take an OpenAPI 3.0 subset of JSON Schema and
 * refuse some keywords OpenAI clients routinely send; those are removed, recursively.
 */
const DROPPED = new Set(['$schema', '$id', 'additionalProperties', 'strict']);

export function toGeminiSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toGeminiSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (DROPPED.has(k)) continue;
    // Property names are data, not keywords: keep them, translate their schemas.
    out[k] = k === 'properties' && v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).map(([name, s]) => [name, toGeminiSchema(s)]))
      : toGeminiSchema(v);
  }
  return out;
}
