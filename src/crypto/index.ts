/** keygate's cryptography: node:crypto only. See docs/key-management.md. */
export { SecretString } from './secret-string.js';
export {
  Fernet,
  MultiFernet,
  InvalidToken,
  generateFernetKey,
  decodeFernetKey,
  FERNET_MAX_CLOCK_SKEW_SECONDS,
  type FernetEncryptOptions,
  type FernetDecryptOptions,
} from './fernet.js';
export {
  MasterKey,
  MasterKeyError,
  loadMasterKey,
  generateMasterKey,
  MASTER_KEY_ENV,
  MASTER_PASSPHRASE_ENV,
  MASTER_KEY_FILE,
  MASTER_SALT_FILE,
  PBKDF2_MIN_ITERATIONS,
  MIN_PASSPHRASE_LENGTH,
  type MasterKeySource,
  type MasterKeyErrorCode,
  type LoadMasterKeyOptions,
  type LoadedMasterKey,
} from './master-key.js';
export { ENC_PREFIX, EncValueError, isEncValue, encryptEnvValue, decryptEnvValue, type EncValueKey } from './enc-values.js';
export {
  seal as sealEnvelope,
  open as openEnvelope,
  openSecret as openEnvelopeSecret,
  rewrap as rewrapEnvelope,
  sealedKeyId,
  isSealed,
  createEnvelopeKey,
  EnvelopeError,
  type EnvelopeKey,
  type EnvelopeErrorCode,
} from './envelope.js';
export * as envelope from './envelope.js';
export {
  createSplitKey,
  openSplitKey,
  rewrapSplitKey,
  generateSplitKeyServerSecret,
  isSplitKeyId,
  isSplitKeyClientPart,
  SplitKeyError,
  type SplitKeyRecord,
  type CreatedSplitKey,
  type CreateSplitKeyInput,
  type OpenSplitKeyInput,
} from './split-key.js';
