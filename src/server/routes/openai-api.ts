/** The OpenAI-compatible public API: chat completions, embeddings, models. Handlers stay thin. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ChatCompletionRequest, EmbeddingsRequest } from '../../core/openai-types.js';
import { makeAuthenticateHook, modelAllowed, requireModel, requireScope } from '../authenticate.js';
import type { GatewayContext } from '../context.js';
import type { Custody } from '../custody.js';
import { failedOutcome, type CallOutcome, type Endpoint } from '../forward.js';
import { callWithResilience } from '../resilient-call.js';
import { chatCompletionBodySchema, embeddingsBodySchema } from '../schemas.js';
import { chatCompletionSchema, embeddingsSchema, modelListSchema } from '../api-schemas.js';
import { documented } from '../openapi.js';
import { reserveLimits, type LimitHold } from '../steps/limits.js';
import { recordCall } from '../steps/record-call.js';
import { guardRequest, makeAnswerGuard, policyFor } from '../steps/guard.js';

export async function openAIRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  app.addHook('onRequest', makeAuthenticateHook(ctx));

  const call = (endpoint: Endpoint) =>
    async function handler(req: FastifyRequest, reply: FastifyReply): Promise<void> {
      requireScope(req, 'write');
      let body = req.body as ChatCompletionRequest | EmbeddingsRequest;
      const started = performance.now();
      const plan = ctx.router.plan(body.model);
      req.callTarget = { provider: plan[0].provider.id, model: plan[0].model, endpoint };
      requireModel(req, plan[0].provider.id, plan[0].model);
      // Fallbacks and group members the caller may not use are left out, silently.
      const targets = plan.length === 1 ? plan : plan.filter((r, i) => i === 0 || modelAllowed(req, r.provider.id, r.model));
      // The shield, before anything is reserved or sent: a blocked prompt costs nothing.
      const policy = policyFor(ctx, req);
      const answerGuard = endpoint === 'chat' ? makeAnswerGuard(ctx, req, policy, body as ChatCompletionRequest) : null;
      // Embedding inputs are screened too (as on /openai/v1/embeddings): a secret must not be embedded.
      if (endpoint === 'chat') body = guardRequest(ctx, req, body as ChatCompletionRequest, policy);
      else if (endpoint === 'embeddings') body = guardRequest(ctx, req, body as EmbeddingsRequest, policy);
      let route = targets[0];
      let custody: Custody = 'none';
      const hold: LimitHold = await reserveLimits(ctx, req, reply, { provider: route.provider.id, model: route.model, body });
      let outcome: CallOutcome = { status: 500, usage: null, errorCode: 'internal_error' };
      try {
        const result = await callWithResilience(ctx, req, reply, endpoint, body, targets, answerGuard);
        ({ outcome, route } = result);
        custody = result.upstreamKey.custody;
      } catch (err) {
        outcome = failedOutcome(err);
        throw err;
      } finally {
        // A call that produced an answer is paid for; one that failed before is refunded.
        if (outcome.status < 400 || outcome.usage) hold.settle(outcome.usage);
        else hold.release();
        recordCall(ctx, req, {
          provider: route.provider.id,
          model: route.model,
          endpoint,
          outcome,
          elapsedMs: performance.now() - started,
          stream: endpoint === 'chat' && (body as ChatCompletionRequest).stream === true,
          custody,
          estimateBody: body,
        });
      }
    };

  const upstreamErrors = [404, 413, 502, 503, 504];
  const chatDoc = documented({
    summary: 'Chat completion, OpenAI-compatible (any configured provider)',
    responses: { 200: { description: 'The completion, or with stream: true the SSE stream', content: { 'application/json': chatCompletionSchema, 'text/event-stream': null } } },
    errors: upstreamErrors,
  });
  app.post('/v1/chat/completions', { schema: { body: chatCompletionBodySchema }, ...chatDoc }, call('chat'));
  app.post('/v1/embeddings', { schema: { body: embeddingsBodySchema }, ...documented({ summary: 'Embeddings, OpenAI-compatible', responses: { 200: embeddingsSchema }, errors: upstreamErrors }) }, call('embeddings'));

  app.get('/v1/models', documented({ summary: 'Models this credential may use', responses: { 200: modelListSchema } }), async (req) => {
    requireScope(req, 'read');
    const created = 0;
    return { object: 'list', data: ctx.registry.listModels().map((m) => ({ id: m.id, object: 'model', created, owned_by: m.owned_by })) };
  });
}
