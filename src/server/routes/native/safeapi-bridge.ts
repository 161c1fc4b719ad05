/**
 * SafeAPI-Bridge compatibility, for its existing clients:
 * - `POST /api/:provider/proxy` with `{ "endpoint": "/chat/completions", ...body }`: the
 *   endpoint is read under the provider's API root and goes through the same whitelist and
 *   path checks as the native routes; the rest of the body is what is sent.
 * - `POST /api/chat/completions` (the proxy library's route): the gateway's own
 *   `/v1/chat/completions` handler, registered again under that path (see aliasChatRoute).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../../../core/errors.js';
import { isRecord } from '../../../providers/_shared/translate.js';
import { makeAuthenticate } from '../../authenticate.js';
import type { GatewayContext } from '../../context.js';
import { documented } from '../../openapi.js';
import { openAIRoutes } from '../openai-api.js';
import { runNativeCall } from './call.js';
import { makeNativeAuthenticate } from './credentials.js';
import { resolveMatch, type NativeWhitelist } from './whitelist-step.js';

export async function bridgeProxyRoutes(app: FastifyInstance, ctx: GatewayContext, whitelists: readonly NativeWhitelist[]): Promise<void> {
  const byId = new Map(whitelists.map((w) => [w.spec.id, { w, authenticate: makeNativeAuthenticate(makeAuthenticate(ctx, { checkRoute: false }), w.spec.keyHeaders) }]));
  const lookup = (req: FastifyRequest) => {
    const provider = (req.params as { provider?: string }).provider ?? '';
    const found = byId.get(provider);
    if (!found) throw errors.unknownProvider(provider);
    return found;
  };
  app.addHook('onRequest', async (req) => {
    await lookup(req).authenticate(req);
  });
  const proxyDoc = documented({
    summary: "SafeAPI-Bridge proxy: { endpoint, ...body } sent to the provider's whitelisted endpoint",
    nativeErrors: true,
    responses: { 200: { description: 'What the provider answers' } },
    errors: [404, 502, 503, 504],
  });
  app.post('/api/:provider/proxy', proxyDoc, async (req, reply) => {
    const { w } = lookup(req);
    if (!isRecord(req.body)) throw errors.invalidBody('The request body must be a JSON object.');
    const { endpoint, ...body } = req.body;
    if (typeof endpoint !== 'string' || !endpoint.startsWith('/') || endpoint.length > 512) {
      throw errors.invalidBody("'endpoint' must be a provider path such as /chat/completions.", 'endpoint');
    }
    // A relative endpoint cannot climb out of the API root: `..` and friends are refused by the matcher.
    await runNativeCall(ctx, w.spec, req, reply, resolveMatch(w, 'POST', w.spec.bridgePrefix + endpoint), body);
  });
}

/**
 * Registers the gateway's `/v1/chat/completions` handler (auth hook, shield, limits,
 * fallbacks: the whole OpenAI path) a second time as `/api/chat/completions`, in its own
 * scope, by letting openAIRoutes register onto a view of the scope that renames that one
 * route and skips the others. Fails at start-up if the route was not found, so a change in
 * openai-api.ts cannot silently drop the alias.
 */
export async function aliasChatRoute(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  let aliased = false;
  const view = new Proxy(app, {
    get(target, prop) {
      if (prop === 'post') {
        return (url: string, ...rest: unknown[]) => {
          if (url === '/v1/chat/completions') {
            aliased = true;
            return (target.post as (u: string, ...r: unknown[]) => FastifyInstance)('/api/chat/completions', ...rest);
          }
          return view;
        };
      }
      if (prop === 'get') return () => view;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  await openAIRoutes(view, ctx);
  if (!aliased) throw new Error('POST /api/chat/completions: the OpenAI chat route was not found to alias (see openai-api.ts).');
}
