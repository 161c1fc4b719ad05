/** Pool events as gateway events (audit log, webhooks): key ids and providers only, never a key. */
import type { KeyPoolEvent } from '../secrets/key-pool.js';
import type { GatewayEvent } from '../server/events.js';

export function poolEventToGateway(e: KeyPoolEvent): GatewayEvent {
  const target = `${e.provider}/${e.keyId}`;
  const details: Record<string, unknown> = { kind: 'provider_key', provider: e.provider, keyId: e.keyId, at: e.at };
  if (e.type === 'key.rotated') return { type: 'key.rotated', actor: 'system', target, outcome: 'success', details: { ...details, replaced: e.replaced } };
  if (e.type === 'key.cooling') Object.assign(details, { reason: e.reason, until: e.until });
  if (e.type === 'key.draining') details.inFlight = e.inFlight;
  // The other pool events have no type of their own in the catalogue: an admin action by the system.
  return { type: 'admin.action', actor: 'system', target, outcome: e.type === 'key.cooling' ? 'failure' : 'success', details: { ...details, action: `provider_${e.type}` } };
}
