/** Public surface of the secret layer. */
export { type SecretBackend, type SecretBackendCapabilities, SECRET_NAME_PATTERN, assertSecretName } from './backend.js';
export { SecretNotFoundError, SecretBackendError, SecretUnsupportedError, type SecretOperation } from './errors.js';
export { EnvBackend, envVarForName, nameForEnvVar, type EnvBackendOptions, type EnvDecryptor } from './backends/env.js';
export { VaultBackend, type VaultBackendOptions, type VaultAppRole } from './backends/vault.js';
export { AwsSecretsManagerBackend, type AwsBackendOptions } from './backends/aws.js';
export { AzureKeyVaultBackend, azureSecretName, type AzureBackendOptions } from './backends/azure.js';
export { KeyringBackend, type KeyringBackendOptions } from './backends/keyring.js';
export { CachedBackend, type CachedBackendOptions, type BackendStatus, type StatusListener } from './cached-backend.js';
export {
  KeyPool,
  NoKeyAvailableError,
  type KeyLease,
  type KeyOutcome,
  type KeyPoolEvent,
  type KeyPoolListener,
  type KeyPoolOptions,
  type PoolKeyInfo,
  type PoolStrategy,
} from './key-pool.js';
export { SecureKeyManager, KeyProvider, poolNames, type SecureKeyManagerOptions } from './secure-key-manager.js';
export { planMigration, migrateFromEnv, formatMigration, PROVIDER_KEY_VARS, type MigrationStep, type MigrationResult, type MigrationInput } from './migrate.js';
export { parseDotenv, removeFromDotenv } from './dotenv.js';
