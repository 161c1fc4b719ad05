/**
 * Where the library gets provider keys. SecureKeyManager (src/secrets) implements it; so
 * can any object that hands back a SecretString per provider id.
 */
import type { SecretString } from '../crypto/secret-string.js';

export interface KeyManager {
  /** The key for a provider id (`openai`, `anthropic`, `gemini`, ...). */
  getApiKey(provider: string): Promise<SecretString>;
}
