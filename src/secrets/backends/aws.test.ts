import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretString } from '../../crypto/secret-string.js';
import { startMockAws, type MockAws } from '../../../test/mock-secrets/aws-server.js';
import { SecretBackendError, SecretNotFoundError } from '../errors.js';
import { AwsSecretsManagerBackend } from './aws.js';
import { recordSecret, kept, keptRejection } from '../../../test/mock-secrets/scan.js';

const ACCESS_KEY_ID = recordSecret('AKIAMOCKTESTKEY00001');
const SECRET_ACCESS_KEY = recordSecret('mockSecretAccessKey/For+Tests0123456789');
const KEY = recordSecret('sk-proj-awsTestKey0123456789abcdefgh');

describe('AwsSecretsManagerBackend against a local JSON 1.1 server (real SDK, SigV4 checked)', () => {
  let aws: MockAws;
  let backend: AwsSecretsManagerBackend;
  beforeAll(async () => {
    aws = await startMockAws({ secretAccessKey: SECRET_ACCESS_KEY, region: 'eu-west-1' });
    backend = new AwsSecretsManagerBackend({
      region: 'eu-west-1',
      endpoint: aws.url,
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SecretString.from(SECRET_ACCESS_KEY) },
      maxAttempts: 1,
      recoveryWindowDays: 7,
    });
  });
  afterAll(async () => {
    backend.destroy();
    await aws.close();
  });

  it('creates, reads, updates, lists (paged) and deletes secrets under keygate/', async () => {
    await backend.validate();
    await backend.put('openai', SecretString.from(KEY));
    expect(aws.operations.slice(-2)).toEqual(['PutSecretValue', 'CreateSecret']);
    expect(aws.secrets.get('keygate/openai')?.value).toBe(KEY);
    await backend.put('openai', SecretString.from(`${KEY}-v2`));
    expect(aws.operations.at(-1)).toBe('PutSecretValue');
    expect((await backend.get('openai')).equals(`${KEY}-v2`)).toBe(true);

    await backend.put('anthropic', SecretString.from(KEY));
    await backend.put('groq', SecretString.from(KEY));
    aws.secrets.set('other-app/thing', { value: 'x' });
    expect(await backend.list()).toEqual(['anthropic', 'groq', 'openai']);

    await backend.delete('groq');
    expect(await backend.list()).toEqual(['anthropic', 'openai']);
    await expect(keptRejection(backend.delete('groq'))).rejects.toBeInstanceOf(SecretNotFoundError);
    // Writing a key that is scheduled for deletion restores it first.
    await backend.put('groq', SecretString.from(KEY));
    expect(aws.operations.slice(-3)).toEqual(['PutSecretValue', 'RestoreSecret', 'PutSecretValue']);
    expect((await backend.get('groq')).equals(KEY)).toBe(true);
  });

  it('sent a SigV4 Authorization header with our access key id and the service scope', () => {
    const auth = String(aws.requests.at(-1)!.headers.authorization);
    expect(auth).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/\\d{8}/eu-west-1/secretsmanager/aws4_request, ?SignedHeaders=[^,]*x-amz-target[^,]*, ?Signature=[0-9a-f]{64}$`));
    expect(aws.requests.at(-1)!.headers['content-type']).toBe('application/x-amz-json-1.1');
  });

  it('ResourceNotFoundException is SecretNotFoundError', async () => {
    await expect(keptRejection(backend.get('mistral'))).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('wrong credentials fail the signature check: a SecretBackendError without the secret', async () => {
    const wrongSecret = recordSecret('wrongSecretAccessKeyValue0123456789');
    const b = new AwsSecretsManagerBackend({ region: 'eu-west-1', endpoint: aws.url, credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: wrongSecret }, maxAttempts: 1 });
    const err = (await b.validate().catch(kept)) as SecretBackendError;
    b.destroy();
    expect(err).toBeInstanceOf(SecretBackendError);
    expect(err.code).toBe('InvalidSignatureException');
    expect(err.message).toContain('HTTP 403');
    expect(err.message).not.toContain(wrongSecret);
  });

  it('an outage is a SecretBackendError', async () => {
    aws.down = true;
    try {
      const err = (await backend.get('openai').catch(kept)) as SecretBackendError;
      expect(err).toBeInstanceOf(SecretBackendError);
      expect(err.message).toContain('HTTP 503');
    } finally {
      aws.down = false;
    }
  });
});
