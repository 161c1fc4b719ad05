/**
 * The `secrets` section of the config: which backend holds provider keys and its options.
 * Credentials for the backends themselves (a Vault token, an AppRole secret id) are read from
 * environment variables named here, never written in the YAML file.
 */
import { z } from 'zod';

export const SECRET_BACKENDS = ['store', 'env', 'vault', 'aws', 'azure', 'keyring'] as const;
export type SecretBackendName = (typeof SECRET_BACKENDS)[number];

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name like VAULT_TOKEN');

export const secretsSchema = z
  .object({
    backend: z.enum(SECRET_BACKENDS).default('store'),
    /** How often a running gateway checks the backend for keys changed elsewhere (CLI rotation); 0 = only on SIGHUP. */
    reloadIntervalMs: z.number().int().min(0).default(5_000),
    /** Cache TTL in front of vault, aws and azure. */
    cacheTtlMs: z.number().int().min(0).default(300_000),
    /** Key cooling after the provider refuses a key (401/403). */
    authCooldownMs: z.number().int().min(0).default(300_000),
    /** Key cooling after a 429 without Retry-After. */
    rateLimitCooldownMs: z.number().int().min(0).default(30_000),
    strategy: z.enum(['round-robin', 'least-in-flight']).default('round-robin'),
    vault: z
      .object({
        url: z.string().url(),
        tokenEnv: envName.default('VAULT_TOKEN'),
        roleId: z.string().min(1).optional(),
        secretIdEnv: envName.default('VAULT_SECRET_ID'),
        appRoleMount: z.string().min(1).optional(),
        namespace: z.string().min(1).optional(),
        mount: z.string().min(1).optional(),
        prefix: z.string().optional(),
        field: z.string().min(1).optional(),
        caFile: z.string().min(1).optional(),
        insecureSkipVerify: z.boolean().optional(),
        timeoutMs: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    aws: z
      .object({
        region: z.string().min(1).optional(),
        endpoint: z.string().url().optional(),
        prefix: z.string().optional(),
        kmsKeyId: z.string().min(1).optional(),
        recoveryWindowDays: z.number().int().min(0).max(30).optional(),
      })
      .strict()
      .optional(),
    azure: z
      .object({
        vaultUrl: z.string().url(),
        prefix: z.string().optional(),
        purgeOnDelete: z.boolean().optional(),
        /** With clientId: a service principal (ClientSecretCredential); without: DefaultAzureCredential. */
        tenantId: z.string().min(1).optional(),
        clientId: z.string().min(1).optional(),
        /** The variable holding the client secret (plain or enc:), never the YAML file. */
        clientSecretEnv: envName.default('AZURE_CLIENT_SECRET'),
        /** The Microsoft Entra endpoint, e.g. https://login.microsoftonline.us (sovereign clouds); https only. */
        authorityHost: z.string().url().optional(),
        /** For an authority MSAL does not know (private or local): skip the instance discovery call. */
        disableInstanceDiscovery: z.boolean().optional(),
        /** PEM CA bundle trusted for the authority and the vault (private CAs); replaces the public CAs. */
        caFile: z.string().min(1).optional(),
        /** Vaults outside *.vault.azure.net: skip the check that the auth challenge names the vault's domain. */
        disableChallengeResourceVerification: z.boolean().optional(),
        /** Local test servers only: an http:// vault URL (the bearer token would travel in clear). */
        allowInsecureHttp: z.boolean().optional(),
        maxRetries: z.number().int().min(0).optional(),
      })
      .strict()
      .refine((a) => !a.clientId || a.tenantId, { message: 'clientId needs tenantId (the directory of the service principal)', path: ['tenantId'] })
      .optional(),
    keyring: z
      .object({ service: z.string().min(1).optional(), linuxStore: z.enum(['secret-service', 'keyutils']).optional() })
      .strict()
      .optional(),
  })
  .strict();

export type SecretsConfig = z.infer<typeof secretsSchema>;
