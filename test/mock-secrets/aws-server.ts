/**
 * A local stand-in for AWS Secrets Manager speaking its JSON 1.1 protocol: `POST /` with
 * `X-Amz-Target: secretsmanager.<Operation>`. Every request must carry a SigV4 Authorization
 * header, and the mock recomputes the signature with the test's secret access key, so a
 * request the real SDK did not sign correctly is refused as AWS would (403
 * InvalidSignatureException). Errors use AWS's shape: `{ "__type": "...", "message": "..." }`.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { json, startMockServer, type MockServer, type RecordedRequest } from './http-util.js';

export interface MockAws extends MockServer {
  secrets: Map<string, { value: string; deletedAt?: number }>;
  operations: string[];
}

const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
const hmac = (key: string | Buffer, s: string): Buffer => createHmac('sha256', key).update(s).digest();

/** Verifies SigV4 per the AWS documentation ("Create a signed AWS API request"). */
export function verifySigV4(req: RecordedRequest, secretAccessKey: string): string | undefined {
  const auth = String(req.headers.authorization ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'missing or malformed SigV4 Authorization header';
  const [, , date, region, service, signedHeaders, signature] = m;
  if (service !== 'secretsmanager') return `signed for service ${service}`;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const url = new URL(req.url, 'http://x');
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((h) => `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [req.method, url.pathname || '/', url.searchParams.toString(), canonicalHeaders, signedHeaders, sha256(req.body)].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const kDate = hmac(`AWS4${secretAccessKey}`, date);
  const kSigning = hmac(hmac(hmac(kDate, region), service), 'aws4_request');
  const expected = createHmac('sha256', kSigning).update(stringToSign).digest('hex');
  return expected === signature ? undefined : 'signature does not match';
}

export async function startMockAws(opts: { secretAccessKey: string; region: string; account?: string }): Promise<MockAws> {
  const secrets = new Map<string, { value: string; deletedAt?: number }>();
  const operations: string[] = [];
  const arn = (name: string) => `arn:aws:secretsmanager:${opts.region}:${opts.account ?? '123456789012'}:secret:${name}-AbCdEf`;
  const fail = (res: Parameters<typeof json>[0], type: string, message: string, status = 400) =>
    json(res, status, { __type: type, message }, { 'x-amzn-errortype': type, 'content-type': 'application/x-amz-json-1.1' });

  const server = await startMockServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (req.method !== 'POST' || !target.startsWith('secretsmanager.')) return fail(res, 'UnknownOperationException', 'unknown operation');
    const problem = verifySigV4(req, opts.secretAccessKey);
    if (problem) return fail(res, 'InvalidSignatureException', `The request signature we calculated does not match (${problem}).`, 403);
    const op = target.slice('secretsmanager.'.length);
    operations.push(op);
    const body = JSON.parse(req.body || '{}') as Record<string, unknown>;
    const id = String(body.SecretId ?? body.Name ?? '');
    const entry = secrets.get(id);
    const notFound = () => fail(res, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    const out = (o: unknown) => json(res, 200, o, { 'content-type': 'application/x-amz-json-1.1' });
    switch (op) {
      case 'GetSecretValue':
        if (!entry) return notFound();
        if (entry.deletedAt) return fail(res, 'InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
        return out({ ARN: arn(id), Name: id, VersionId: randomUUID(), SecretString: entry.value, VersionStages: ['AWSCURRENT'], CreatedDate: Date.now() / 1000 });
      case 'PutSecretValue':
        if (!entry) return notFound();
        if (entry.deletedAt) return fail(res, 'InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
        entry.value = String(body.SecretString);
        return out({ ARN: arn(id), Name: id, VersionId: randomUUID(), VersionStages: ['AWSCURRENT'] });
      case 'CreateSecret':
        if (entry) return fail(res, 'ResourceExistsException', `The operation failed because the secret ${id} already exists.`);
        secrets.set(id, { value: String(body.SecretString) });
        return out({ ARN: arn(id), Name: id, VersionId: randomUUID() });
      case 'RestoreSecret':
        if (!entry) return notFound();
        delete entry.deletedAt;
        return out({ ARN: arn(id), Name: id });
      case 'DeleteSecret':
        if (!entry || entry.deletedAt) return notFound();
        if (body.ForceDeleteWithoutRecovery === true) secrets.delete(id);
        else entry.deletedAt = Date.now();
        return out({ ARN: arn(id), Name: id, DeletionDate: Date.now() / 1000 });
      case 'ListSecrets': {
        const filters = (body.Filters as Array<{ Key: string; Values: string[] }> | undefined) ?? [];
        const prefix = filters.find((f) => f.Key === 'name')?.Values[0] ?? '';
        const all = [...secrets.entries()].filter(([n, e]) => !e.deletedAt && n.startsWith(prefix)).map(([n]) => n).sort();
        // Pages of 2, so the client's NextToken loop is exercised.
        const start = body.NextToken ? Number(body.NextToken) : 0;
        const page = all.slice(start, start + 2);
        return out({ SecretList: page.map((n) => ({ ARN: arn(n), Name: n })), NextToken: start + 2 < all.length ? String(start + 2) : undefined });
      }
      default:
        return fail(res, 'UnknownOperationException', `operation ${op} is not implemented by the mock`);
    }
  });
  return Object.defineProperties(server, { secrets: { value: secrets }, operations: { value: operations } }) as MockAws;
}
