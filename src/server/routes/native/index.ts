/**
 * Native pass-through: each provider's own API under `/<provider>/*` (so the official SDKs
 * work with only a base URL change), and the SafeAPI-Bridge routes. Each part is its own
 * encapsulated scope with its own hooks.
 */
import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../../context.js';
import { providerRoutes } from './provider-routes.js';
import { aliasChatRoute, bridgeProxyRoutes } from './safeapi-bridge.js';
import { NATIVE_SPECS, buildWhitelist } from './whitelist-step.js';

export async function nativeRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  // Built at start-up: an unknown endpoint group in config stops the start with its name.
  const whitelists = NATIVE_SPECS.map((spec) => buildWhitelist(spec, ctx.config));
  for (const w of whitelists) await app.register((scope) => providerRoutes(scope, ctx, w));
  await app.register((scope) => bridgeProxyRoutes(scope, ctx, whitelists));
  await app.register((scope) => aliasChatRoute(scope, ctx));
}
