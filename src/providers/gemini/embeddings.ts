/** OpenAI embeddings <-> Gemini `:batchEmbedContents` (https://ai.google.dev/api/embeddings). */
import { errors } from '../../core/errors.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../core/openai-types.js';
import type { EmbeddingsTranslator, UpstreamRequestSpec } from '../../core/provider.js';
import { arr, floatsToBase64, invalidForProvider, isRecord } from '../_shared/translate.js';
import { modelPath } from './request.js';

export function toGeminiEmbeddings(req: EmbeddingsRequest, model: string): UpstreamRequestSpec {
  const inputs = typeof req.input === 'string' ? [req.input] : req.input;
  if (!Array.isArray(inputs) || !inputs.length || !inputs.every((s): s is string => typeof s === 'string')) {
    throw invalidForProvider('Gemini embeddings take text input only (a string or an array of strings), not token arrays.', 'input');
  }
  const requests = inputs.map((text) => ({
    model: `models/${model}`,
    content: { parts: [{ text }] },
    ...(typeof req.dimensions === 'number' ? { outputDimensionality: req.dimensions } : {}),
  }));
  return { path: `${modelPath(model)}:batchEmbedContents`, body: { requests } };
}

export function fromGeminiEmbeddings(body: unknown, model: string, base64 = false): EmbeddingsResponse {
  if (!isRecord(body) || !Array.isArray(body.embeddings)) throw errors.upstreamBadResponse('Gemini');
  return {
    object: 'list',
    data: arr(body.embeddings).map((e, index) => {
      const values = isRecord(e) ? arr(e.values).filter((v): v is number => typeof v === 'number') : [];
      return { object: 'embedding' as const, index, embedding: base64 ? floatsToBase64(values) : values };
    }),
    model,
    // Gemini reports no token counts for embeddings.
    usage: { prompt_tokens: 0, total_tokens: 0 },
  };
}

/**
 * Gemini has no encoding_format, and the openai SDK asks for base64 by default, so base64
 * is produced here. The contract's fromUpstream does not see the request: the request is
 * an optional third argument (a contract addition); without it, floats are returned.
 */
export const geminiEmbeddings: EmbeddingsTranslator = {
  toUpstream: toGeminiEmbeddings,
  fromUpstream: (body: unknown, model: string, req?: EmbeddingsRequest) => fromGeminiEmbeddings(body, model, req?.encoding_format === 'base64'),
};
