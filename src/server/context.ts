/** Everything the routes need, built once at start-up (see server/gateway.ts). */
import type { KeygateConfig } from '../config/schema.js';
import type { KeyAuthenticator } from '../auth/key-authenticator.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Store } from '../store/connect.js';
import type { UpstreamClient } from '../upstream/http-client.js';
import type { UsageWriter } from '../usage/usage-writer.js';
import type { Logger } from './logger.js';

export interface GatewayContext {
  config: KeygateConfig;
  registry: ProviderRegistry;
  store: Store;
  keys: KeyAuthenticator;
  usage: UsageWriter;
  upstream: UpstreamClient;
  logger: Logger;
}
