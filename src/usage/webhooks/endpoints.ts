/** Webhook endpoints: URLs are shape-checked on write, secrets sealed at rest and shown once. */
import { randomBytes } from 'node:crypto';
import { checkUrlShape, type TargetPolicy } from './ssrf.js';
import { WEBHOOK_EVENTS, type Sealer, type WebhookDb, type WebhookEndpoint, type WebhookEndpointsTable, type WebhookEventType } from './types.js';

export interface EndpointInput {
  url: string;
  events: ReadonlyArray<WebhookEventType | '*'>;
  description?: string | null;
  enabled?: boolean;
}

const KNOWN = new Set<string>([...WEBHOOK_EVENTS, '*']);

export function newId(prefix: string, now: number): string {
  // Time first, so ids sort by creation (the delivery log pages on id).
  return `${prefix}_${now.toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}

export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export function validateEvents(events: readonly string[]): Array<WebhookEventType | '*'> {
  if (!Array.isArray(events) || events.length === 0) throw new TypeError('webhook events must be a non-empty list');
  const bad = events.filter((e) => !KNOWN.has(e));
  if (bad.length) throw new TypeError(`unknown webhook event(s): ${bad.slice(0, 5).join(', ')}`);
  return [...new Set(events)] as Array<WebhookEventType | '*'>;
}

export function toEndpoint(r: WebhookEndpointsTable): WebhookEndpoint {
  return {
    id: r.id,
    url: r.url,
    description: r.description,
    events: JSON.parse(r.events) as Array<WebhookEventType | '*'>,
    enabled: Number(r.enabled) === 1,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export class EndpointRepository {
  constructor(
    private readonly db: WebhookDb,
    private readonly sealer: Sealer,
    private readonly policy: TargetPolicy,
    private readonly now: () => number,
  ) {}

  /** Returns the endpoint and its signing secret; the secret cannot be read back later. */
  async create(input: EndpointInput): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    checkUrlShape(input.url, this.policy);
    const events = validateEvents(input.events);
    const secret = newSecret();
    const t = this.now();
    const row: WebhookEndpointsTable = {
      id: newId('whe', t),
      url: input.url,
      description: input.description ?? null,
      events: JSON.stringify(events),
      secret: this.sealer.seal(secret),
      enabled: input.enabled === false ? 0 : 1,
      created_at: t,
      updated_at: t,
    };
    await this.db.insertInto('webhook_endpoints').values(row).execute();
    return { endpoint: toEndpoint(row), secret };
  }

  async list(): Promise<WebhookEndpoint[]> {
    const rows = await this.db.selectFrom('webhook_endpoints').selectAll().orderBy('created_at', 'asc').execute();
    return rows.map(toEndpoint);
  }

  async get(id: string): Promise<WebhookEndpoint | undefined> {
    const row = await this.row(id);
    return row && toEndpoint(row);
  }

  async update(id: string, patch: Partial<EndpointInput>): Promise<WebhookEndpoint | undefined> {
    const set: Partial<WebhookEndpointsTable> = { updated_at: this.now() };
    if (patch.url !== undefined) {
      checkUrlShape(patch.url, this.policy);
      set.url = patch.url;
    }
    if (patch.events !== undefined) set.events = JSON.stringify(validateEvents(patch.events));
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
    await this.db.updateTable('webhook_endpoints').set(set).where('id', '=', id).execute();
    return this.get(id);
  }

  /** Deletes the endpoint and (cascade) its delivery log. */
  async delete(id: string): Promise<boolean> {
    await this.db.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
    const r = await this.db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async rotateSecret(id: string): Promise<string | undefined> {
    const secret = newSecret();
    const r = await this.db
      .updateTable('webhook_endpoints')
      .set({ secret: this.sealer.seal(secret), updated_at: this.now() })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0 ? secret : undefined;
  }

  /** Enabled endpoints subscribed to `event` (directly or with "*"). */
  async subscribers(event: string): Promise<WebhookEndpointsTable[]> {
    const rows = await this.db.selectFrom('webhook_endpoints').selectAll().where('enabled', '=', 1).execute();
    return rows.filter((r) => {
      const events = JSON.parse(r.events) as string[];
      return events.includes('*') || events.includes(event);
    });
  }

  /** The row with the sealed secret, for the dispatcher; never hand it to an API response. */
  row(id: string): Promise<WebhookEndpointsTable | undefined> {
    return this.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
  }
}
