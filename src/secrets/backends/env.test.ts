import { describe, expect, it } from 'vitest';
import { SecretString } from '../../crypto/secret-string.js';
import { SecretBackendError, SecretNotFoundError, SecretUnsupportedError } from '../errors.js';
import { EnvBackend, envVarForName, nameForEnvVar } from './env.js';
import { recordSecret, kept, keptRejection } from '../../../test/mock-secrets/scan.js';

const PLAIN = recordSecret('sk-proj-envPlainKey0123456789abcdef');
const SECRET_IN_ENC = recordSecret('sk-ant-fromEncValue0123456789abcdef');
const ENC = 'enc:gAAAAABfakeTokenForTheInjectedDecryptor0123456789';

// Stands in for decryptEnvValue(masterKey, value, varName): the backend only needs the contract.
const decryptEnc = (value: string, varName: string): SecretString => {
  if (value !== ENC) throw new Error(`${varName} holds an enc: value that cannot be decrypted with the current master key`);
  return SecretString.from(SECRET_IN_ENC);
};

describe('EnvBackend', () => {
  it('maps logical names to variables and back', () => {
    expect(envVarForName('openai')).toBe('OPENAI_API_KEY');
    expect(envVarForName('azure-openai')).toBe('AZURE_OPENAI_API_KEY');
    expect(envVarForName('openai.2')).toBe('OPENAI_API_KEY_2');
    expect(nameForEnvVar('AZURE_OPENAI_API_KEY')).toBe('azure-openai');
    expect(nameForEnvVar('OPENAI_API_KEY_2')).toBe('openai.2');
    expect(nameForEnvVar('PATH')).toBeUndefined();
  });

  it('reads plain and enc: values, lists them, and is read-only', async () => {
    const env = { OPENAI_API_KEY: PLAIN, ANTHROPIC_API_KEY: ENC, KEYGATE_ADMIN_API_KEY: 'x'.repeat(20), EMPTY_API_KEY: '', HOME: '/root' };
    const b = new EnvBackend({ env, decryptEnc, vars: { gemini: 'GOOGLE_API_KEY' } });
    expect((await b.get('openai')).equals(PLAIN)).toBe(true);
    expect((await b.get('anthropic')).equals(SECRET_IN_ENC)).toBe(true);
    expect(await b.list()).toEqual(['anthropic', 'openai']);
    await expect(keptRejection(b.get('groq'))).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(keptRejection(b.get('empty'))).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(keptRejection(b.put())).rejects.toBeInstanceOf(SecretUnsupportedError);
    expect(b.capabilities).toEqual({ read: true, write: false, delete: false, list: true });
    await b.validate();
  });

  it('an undecryptable enc: value fails validate(), naming the variable but not the value', async () => {
    const bad = 'enc:gAAAAABtamperedtamperedtamperedtampered0123456789';
    recordSecret(bad.slice(4));
    const b = new EnvBackend({ env: { OPENAI_API_KEY: bad }, decryptEnc });
    const err = (await b.validate().catch(kept)) as SecretBackendError;
    expect(err).toBeInstanceOf(SecretBackendError);
    expect(err.message).toContain('OPENAI_API_KEY');
    expect(err.message).not.toContain(bad.slice(4));
  });

  it('an enc: value without a decryptor is an error, not the ciphertext as a key', async () => {
    const b = new EnvBackend({ env: { OPENAI_API_KEY: ENC } });
    await expect(keptRejection(b.get('openai'))).rejects.toThrow(/OPENAI_API_KEY holds an enc: value but no master key/);
  });
});
