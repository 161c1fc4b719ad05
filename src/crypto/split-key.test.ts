import { describe, expect, it } from 'vitest';
import { createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { redactText } from '../core/redact.js';
import {
  createSplitKey,
  generateSplitKeyServerSecret,
  isSplitKeyClientPart,
  isSplitKeyId,
  openSplitKey,
  rewrapSplitKey,
  SplitKeyError,
  type SplitKeyRecord,
} from './split-key.js';
import { SecretString } from './secret-string.js';

const PROVIDER_KEY = 'sk-proj-byok-user-key-0123456789abcdefghij';
const serverSecret = generateSplitKeyServerSecret();
const made = createSplitKey({ serverSecret, plaintextKey: PROVIDER_KEY, ownerId: 'user-1', provider: 'openai' });
const good = { serverSecret, stored: made.stored, clientPart: made.clientPart, ownerId: 'user-1', provider: 'openai' };

function refused(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SplitKeyError);
    expect((err as Error).message).toBe('Split key could not be opened');
    return;
  }
  throw new Error('expected SplitKeyError');
}

function flip(b64: string): string {
  const b = Buffer.from(b64, 'base64url');
  b[0] = b[0]! ^ 0x01;
  return b.toString('base64url');
}

describe('BYOK split keys', () => {
  it('round-trips, with ids and client parts in their documented shapes', () => {
    expect(openSplitKey(good).reveal()).toBe(PROVIDER_KEY);
    expect(isSplitKeyId(made.keyId)).toBe(true);
    expect(made.stored.keyId).toBe(made.keyId);
    expect(isSplitKeyClientPart(made.clientPart)).toBe(true);
    expect(Buffer.from(made.clientPart.slice('kg-sp-'.length), 'base64url')).toHaveLength(32);
    const s = openSplitKey({ ...good });
    expect(s).toBeInstanceOf(SecretString);
    expect(String(s)).not.toContain(PROVIDER_KEY);
  });

  it('keeps the client part and the server secret out of the stored row', () => {
    const row = JSON.stringify(made.stored);
    expect(row).not.toContain(PROVIDER_KEY);
    expect(row).not.toContain(made.clientPart.slice(6));
    expect(row).not.toContain(serverSecret.toString('base64url'));
    expect(row).not.toContain(serverSecret.toString('base64'));
    expect(row).not.toContain(serverSecret.toString('hex'));
    expect(Object.keys(made.stored).sort()).toEqual(['ciphertext', 'iv', 'keyId', 'ownerId', 'provider', 'salt', 'tag']);
  });

  it('refuses another owner and another provider', () => {
    refused(() => openSplitKey({ ...good, ownerId: 'user-2' }));
    refused(() => openSplitKey({ ...good, provider: 'anthropic' }));
    // Even if the row itself is relabelled (a DB writer swapping owner), authentication fails.
    refused(() => openSplitKey({ ...good, ownerId: 'user-2', stored: { ...made.stored, ownerId: 'user-2' } }));
    refused(() => openSplitKey({ ...good, provider: 'groq', stored: { ...made.stored, provider: 'groq' } }));
  });

  it('refuses a wrong or malformed client part and a wrong server secret', () => {
    const other = createSplitKey({ serverSecret, plaintextKey: PROVIDER_KEY, ownerId: 'user-1', provider: 'openai' });
    refused(() => openSplitKey({ ...good, clientPart: other.clientPart }));
    refused(() => openSplitKey({ ...good, clientPart: 'kg-sp-' + flip(made.clientPart.slice(6)) }));
    refused(() => openSplitKey({ ...good, clientPart: made.clientPart.slice(0, -1) }));
    refused(() => openSplitKey({ ...good, clientPart: '' }));
    refused(() => openSplitKey({ ...good, serverSecret: randomBytes(32) }));
    refused(() => openSplitKey({ ...good, serverSecret: Buffer.alloc(0) }));
  });

  it('refuses tampered ciphertext, IV, tag, salt or key id', () => {
    const fieldsToTamper: Array<keyof SplitKeyRecord> = ['ciphertext', 'iv', 'tag', 'salt'];
    for (const f of fieldsToTamper) refused(() => openSplitKey({ ...good, stored: { ...made.stored, [f]: flip(made.stored[f]) } }));
    const other = createSplitKey({ serverSecret, plaintextKey: PROVIDER_KEY, ownerId: 'user-1', provider: 'openai' });
    refused(() => openSplitKey({ ...good, stored: { ...made.stored, keyId: other.keyId } }));
    refused(() => openSplitKey({ ...good, stored: { ...made.stored, tag: '' } }));
  });

  it('recovers nothing from the row alone: without the client part the data key cannot be derived', () => {
    // An attacker with the row and even the server secret, guessing an empty or zero client part.
    const { stored } = made;
    for (const guess of [Buffer.alloc(0), Buffer.alloc(32)]) {
      const key = Buffer.from(hkdfSync('sha256', Buffer.concat([serverSecret, guess]), Buffer.from(stored.salt, 'base64url'), Buffer.alloc(0), 32));
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(stored.iv, 'base64url'));
      d.setAuthTag(Buffer.from(stored.tag, 'base64url'));
      d.update(Buffer.from(stored.ciphertext, 'base64url'));
      expect(() => d.final()).toThrow();
    }
    refused(() => openSplitKey({ ...good, clientPart: 'kg-sp-' + Buffer.alloc(32).toString('base64url') }));
  });

  it('recovers nothing from the client part alone: a server secret is required', () => {
    refused(() => openSplitKey({ ...good, serverSecret: Buffer.alloc(32) }));
    refused(() => openSplitKey({ ...good, serverSecret: Buffer.from(made.clientPart.padEnd(32, 'x')) }));
  });

  it('re-wraps under a new server secret while the client part is at hand', () => {
    const next = generateSplitKeyServerSecret();
    const row = rewrapSplitKey({ ...good, newServerSecret: next });
    expect(row.keyId).toBe(made.keyId);
    expect(row.ciphertext).not.toBe(made.stored.ciphertext);
    expect(openSplitKey({ ...good, serverSecret: next, stored: row }).reveal()).toBe(PROVIDER_KEY);
    refused(() => openSplitKey({ ...good, stored: row }));
    refused(() => rewrapSplitKey({ ...good, ownerId: 'user-2', newServerSecret: next }));
  });

  it('is masked by the log redaction and never printed by errors', () => {
    expect(redactText(`X-Partial-Key: ${made.clientPart}`)).not.toContain(made.clientPart);
    let caught: unknown;
    try {
      openSplitKey({ ...good, ownerId: 'user-2' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SplitKeyError);
    const shown = `${inspect(caught)} ${JSON.stringify(caught)}`;
    expect(shown).not.toContain(made.clientPart);
    expect(shown).not.toContain(PROVIDER_KEY);
  });

  it('validates creation inputs', () => {
    expect(() => createSplitKey({ serverSecret: randomBytes(16), plaintextKey: PROVIDER_KEY, ownerId: 'u', provider: 'openai' })).toThrow(TypeError);
    expect(() => createSplitKey({ serverSecret, plaintextKey: '', ownerId: 'u', provider: 'openai' })).toThrow(TypeError);
    expect(() => createSplitKey({ serverSecret, plaintextKey: PROVIDER_KEY, ownerId: '', provider: 'openai' })).toThrow(TypeError);
    const fromSecret = createSplitKey({ serverSecret, plaintextKey: SecretString.from(PROVIDER_KEY), ownerId: 'u', provider: 'openai' });
    expect(openSplitKey({ serverSecret, stored: fromSecret.stored, clientPart: fromSecret.clientPart, ownerId: 'u', provider: 'openai' }).reveal()).toBe(PROVIDER_KEY);
  });
});
