/**
 * `/<provider>/*` for one provider, in its own scope: whitelist, then authentication (both
 * before the body is read), then the call. Errors are written in the provider's own shape,
 * so its official SDK reads them as it reads the provider's.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, errors } from '../../../core/errors.js';
import type { NativeProviderSpec } from '../../../providers/_shared/endpoint-whitelist.js';
import { makeAuthenticate } from '../../authenticate.js';
import type { GatewayContext } from '../../context.js';
import { documented } from '../../openapi.js';
import { toGatewayError } from '../../error-handler.js';
import { runNativeCall, type NativeMatch } from './call.js';
import { makeNativeAuthenticate } from './credentials.js';
import { nativeError } from './forward-native.js';
import { resolveMatch, type NativeWhitelist } from './whitelist-step.js';

export function providerErrorHandler(spec: NativeProviderSpec, bodyLimit: number) {
  return function nativeErrorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
    const ge = toGatewayError(err, bodyLimit);
    if (ge.status >= 500 && !(err instanceof GatewayError)) req.log.error({ err }, 'unhandled error');
    reply.code(ge.status).headers(ge.headers).send(spec.errorBody(nativeError(ge)));
  };
}

export async function providerRoutes(app: FastifyInstance, ctx: GatewayContext, whitelist: NativeWhitelist): Promise<void> {
  const { spec } = whitelist;
  const prefix = `/${spec.id}`;
  const authenticate = makeNativeAuthenticate(makeAuthenticate(ctx, { checkRoute: false }), spec.keyHeaders);
  const matches = new WeakMap<FastifyRequest, NativeMatch>();
  app.setErrorHandler(providerErrorHandler(spec, ctx.config.server.bodyLimit));

  app.addHook('onRequest', async (req) => {
    const raw = req.raw.url ?? '';
    // The router may have matched a decoded spelling of the prefix (`/%61nthropic/`): refused.
    if (!raw.startsWith(`${prefix}/`)) throw new GatewayError(400, 'invalid_request_error', 'path_refused', 'This path is refused: it contains percent-encoding.');
    matches.set(req, resolveMatch(whitelist, req.method, raw.slice(prefix.length)));
    await authenticate(req);
  });

  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: `${prefix}/*`,
    ...documented({
      summary: `${spec.id}'s own API, passed through (whitelisted endpoints only)`,
      nativeErrors: true,
      responses: { 200: { description: `What ${spec.id} answers (JSON, or a stream)` } },
      errors: [404, 413, 502, 503, 504],
    }),
    handler: async (req, reply) => {
      const match = matches.get(req);
      if (!match) throw errors.internal();
      await runNativeCall(ctx, spec, req, reply, match, req.body);
    },
  });
}
