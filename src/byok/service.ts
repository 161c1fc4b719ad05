/**
 * BYOK split keys on the request path and for their owners: reads X-Partial-Key-Id and
 * X-Partial-Key, checks the row against the authenticated caller and the routed provider, and
 * rebuilds the provider key in memory for this one request (a SecretString, never cached).
 */
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/access-control.js';
import {
  createSplitKey,
  isSplitKeyClientPart,
  isSplitKeyId,
  openSplitKey,
  SplitKeyError,
  type MasterKey,
  type SecretString,
} from '../crypto/index.js';
import type { MasterKeyRing } from '../keys/master-keys.js';
import type { SplitKeyResolver } from '../server/context.js';
import type { EventBus } from '../server/events.js';
import type { Store } from '../store/connect.js';
import { ID_HEADER, PART_HEADER, splitKeyErrors } from './errors.js';
import { SplitKeyRepository, toRecord, type SplitKeyRow } from './repository.js';
import { loadServerSecret } from './server-secret.js';
import { UseCounter } from './use-counter.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The split key this request used; null when it used none. */
    splitKeyId?: string | null;
  }
}

export interface SplitKeyServiceOptions {
  store: Store;
  /** The ring during a master-key rotation, so the server secret opens under either key. */
  masterKey: MasterKey | MasterKeyRing;
  events: EventBus;
  flushIntervalMs?: number;
  onError?: (err: unknown) => void;
}

/** Who owns split keys: the caller's user, else its key. Never taken from a row or a header. */
export function ownerOf(principal: Principal | null | undefined): string | null {
  return principal ? (principal.userId ?? principal.keyId) : null;
}

export interface CreatedKey {
  row: SplitKeyRow;
  /** Shown to the client once; the server does not keep it. */
  clientPart: string;
}

export class SplitKeyService implements SplitKeyResolver {
  readonly keys: SplitKeyRepository;
  readonly uses: UseCounter;
  readonly #store: Store;
  readonly #masterKey: MasterKey | MasterKeyRing;
  readonly #events: EventBus;
  #secret: Promise<Buffer> | null = null;

  constructor(opts: SplitKeyServiceOptions) {
    this.#store = opts.store;
    this.#masterKey = opts.masterKey;
    this.#events = opts.events;
    this.keys = new SplitKeyRepository(opts.store);
    this.uses = new UseCounter(this.keys, { flushIntervalMs: opts.flushIntervalMs, onError: opts.onError });
  }

  /** Loaded once per process (single flight); a failed load is retried on the next call. */
  serverSecret(): Promise<Buffer> {
    this.#secret ??= loadServerSecret(this.#store, this.#masterKey).catch((err: unknown) => {
      this.#secret = null;
      throw err;
    });
    return this.#secret;
  }

  async create(input: { ownerId: string; provider: string; key: string | SecretString }, now = Date.now()): Promise<CreatedKey> {
    const made = createSplitKey({ serverSecret: await this.serverSecret(), plaintextKey: input.key, ownerId: input.ownerId, provider: input.provider });
    const row = await this.keys.insert(made.stored, now);
    return { row, clientPart: made.clientPart };
  }

  /**
   * A new provider key under a new id and client part; the old id stops working at once. (The
   * id changes because it is bound into the key derivation with the client part.)
   */
  async rotate(old: SplitKeyRow, key: string | SecretString, now = Date.now()): Promise<CreatedKey | null> {
    const made = createSplitKey({ serverSecret: await this.serverSecret(), plaintextKey: key, ownerId: old.owner_id, provider: old.provider });
    const row = await this.keys.replace(old.key_id, made.stored, now);
    return row ? { row, clientPart: made.clientPart } : null;
  }

  /** Called once per upstream target (fallbacks too): a request counts as one use. */
  async resolve(req: FastifyRequest, provider: string): Promise<SecretString | null> {
    req.splitKeyId ??= null;
    const id = req.headers['x-partial-key-id'];
    const part = req.headers['x-partial-key'];
    if (id === undefined && part === undefined) return null;
    if (part === undefined) throw splitKeyErrors.missingHeader(PART_HEADER, ID_HEADER);
    if (id === undefined) throw splitKeyErrors.missingHeader(ID_HEADER, PART_HEADER);
    if (!isSplitKeyId(id)) throw splitKeyErrors.malformedHeader(ID_HEADER);
    if (!isSplitKeyClientPart(part)) throw splitKeyErrors.malformedHeader(PART_HEADER);

    if (!req.principal) throw splitKeyErrors.noCaller();
    const owner = ownerOf(req.principal);
    if (!owner) throw this.#refuse(req, id, splitKeyErrors.noOwner());
    const row = await this.keys.find(id);
    if (!row) throw this.#refuse(req, id, splitKeyErrors.invalid());
    // Ownership first, so another caller learns nothing about the key's state.
    if (row.owner_id !== owner) throw this.#refuse(req, id, splitKeyErrors.notOwned());
    if (row.revoked_at !== null) throw this.#refuse(req, id, splitKeyErrors.revoked(), 'credential.revoked_used');
    if (row.provider !== provider) throw this.#refuse(req, id, splitKeyErrors.wrongProvider(row.provider, provider));

    let key: SecretString;
    try {
      // The client part is checked by AES-GCM's tag (constant time); owner and provider are bound in too.
      key = openSplitKey({ serverSecret: await this.serverSecret(), stored: toRecord(row), clientPart: part, ownerId: owner, provider });
    } catch (err) {
      if (err instanceof SplitKeyError) throw this.#refuse(req, id, splitKeyErrors.invalid());
      throw err;
    }
    if (req.splitKeyId !== id) {
      req.splitKeyId = id;
      this.uses.count(id);
    }
    return key;
  }

  async close(): Promise<void> {
    await this.uses.close();
  }

  #refuse<E extends Error & { code: string }>(req: FastifyRequest, keyId: string, err: E, type: 'credential.rejected' | 'credential.revoked_used' = 'credential.rejected'): E {
    this.#events.emit({
      type,
      actor: req.principal?.keyId ?? 'anonymous',
      clientId: req.principal?.clientId ?? null,
      target: keyId,
      outcome: 'denied',
      address: req.clientIp,
      requestId: String(req.id),
      details: { code: err.code, kind: 'split_key' },
    });
    return err;
  }
}
