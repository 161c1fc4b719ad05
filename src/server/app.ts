/**
 * Builds the Fastify app: request ids, error envelope, and the route scopes. Each scope is an
 * encapsulated plugin, so hooks registered for one (auth on the public API) cannot leak into
 * or be skipped by another.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { errors } from '../core/errors.js';
import type { GatewayContext } from './context.js';
import { clientErrorHandler, frameworkErrorHandler, makeErrorHandler, sendError, toGatewayError } from './error-handler.js';
import { makeCors } from './hardening/cors.js';
import { installJsonParser } from './hardening/json-body.js';
import { setSecurityHeaders } from './hardening/security-headers.js';
import { isHttpsRequest, makeNetworkStep } from './steps/network.js';
import { runStep } from './hook-done.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { buildOpenApi, collectRoutes, documented } from './openapi.js';
import { createRequire } from 'node:module';
import { openAIRoutes } from './routes/openai-api.js';
import { usageRoutes } from './routes/usage.js';
import { nativeRoutes } from './routes/native/index.js';
import { NATIVE_SPECS } from './routes/native/whitelist-step.js';
import { makeRefusalRecorder } from './steps/record-refusal.js';
import { adminRoutes } from './routes/admin/index.js';
import { authTokenRoutes } from './routes/auth-tokens.js';
import { splitKeyRoutes } from './routes/split-keys.js';

export interface AppOptions {
  /** PEM key and certificate, to serve HTTPS directly. */
  https?: { key: Buffer; cert: Buffer };
}

export async function buildApp(ctx: GatewayContext, opts: AppOptions = {}): Promise<FastifyInstance> {
  const { bodyLimit } = ctx.config.server;
  const app = Fastify({
    ...(opts.https ? { https: opts.https } : {}),
    loggerInstance: ctx.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Our own 503 during shutdown (below), and our envelope for errors raised before routing.
    return503OnClosing: false,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    trustProxy: false,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } },
  });

  // JSON only (Fastify would also take text/plain), with a nesting limit.
  app.removeContentTypeParser('text/plain');
  installJsonParser(app, ctx.config.server.maxJsonDepth);
  const routes = collectRoutes(app);
  // First of the hooks, so the request span covers them all.
  ctx.tracing?.install(app);
  app.setErrorHandler(makeErrorHandler(bodyLimit));
  app.setNotFoundHandler((_req, reply) => sendError(reply, errors.notFound()));
  app.decorateRequest('clientIp', '');
  app.decorateRequest('principal', null);
  app.decorateRequest('clientProviderKey', null);
  app.decorateRequest('callRecorded', false);
  app.decorateRequest('callTarget', null);
  app.decorateRequest('errorCode', null);
  app.decorateRequest('errorType', null);
  // The code a refusal is recorded with (the scope's own error handler writes the body; it
  // runs after this hook and reuses the conversion). Only on the error path.
  app.addHook('onError', (req, _reply, err, done) => {
    const ge = toGatewayError(err, bodyLimit);
    req.errorCode = ge.code;
    req.errorType = ge.type;
    done();
  });
  // While shutting down, in-flight requests finish; a new one (on a kept-alive connection) is
  // told to go elsewhere, in the envelope, and its connection closed.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // The start of every request, in one hook and without a promise unless the access cache is
  // reloading (Fastify awaits each async hook: a promise and a tick apiece): shutdown check,
  // request id and security headers, CORS (answers preflights), then the network step.
  const cors = makeCors(ctx.config.server.cors);
  const network = makeNetworkStep(ctx);
  app.addHook('onRequest', function requestStart(req, reply, done) {
    if (closing) {
      reply.header('connection', 'close').header('x-request-id', req.id);
      const ge = errors.unavailable('The gateway is shutting down; retry the request.');
      req.errorCode = ge.code;
      req.errorType = ge.type;
      sendError(reply, ge);
      return;
    }
    reply.header('x-request-id', req.id);
    setSecurityHeaders(reply, isHttpsRequest(ctx, req));
    if (cors(req, reply)) return;
    runStep(network, req, done);
  });
  // After the response, in one hook: refused API requests are recorded (recordCall records
  // the rest), and one access line per request: never the body, never a header value.
  const recordRefusal = makeRefusalRecorder(ctx, new Set(NATIVE_SPECS.map((s) => s.id)));
  app.addHook('onResponse', function responseEnd(req, reply, done) {
    try {
      recordRefusal(req, reply);
      req.log.info({ method: req.method, path: req.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime), key: req.principal?.keyId }, 'request');
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  });

  await app.register(healthRoutes, ctx);
  await app.register((scope) => metricsRoutes(scope, ctx));
  await app.register((scope) => openAIRoutes(scope, ctx));
  await app.register((scope) => usageRoutes(scope, ctx));
  await app.register((scope) => nativeRoutes(scope, ctx));
  await app.register((scope) => splitKeyRoutes(scope, ctx));
  await app.register((scope) => adminRoutes(scope, ctx), { prefix: '/admin' });
  await app.register((scope) => authTokenRoutes(scope, ctx));
  // Built once, after every route is registered; public, like any API description.
  let openapi: Record<string, unknown> | null = null;
  const openapiDoc = documented({ summary: 'This document', public: true, responses: { 200: { description: 'The OpenAPI 3.1 document', content: { 'application/json': null } } } });
  app.get('/openapi.json', openapiDoc, async () => (openapi ??= buildOpenApi(routes, packageVersion())));
  return app;
}

function packageVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}
