/**
 * A throw-away self-signed certificate for 127.0.0.1 (and localhost), made with openssl in a
 * temporary directory, for mock services that must speak HTTPS (Vault TLS options, the
 * Microsoft Entra token endpoint, which MSAL only calls over https).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  cert: string;
  key: string;
  /** The certificate written to a file, to pass as a CA file. */
  certFile: string;
}

export function selfSignedCert(dir = mkdtempSync(join(tmpdir(), 'keygate-tls-'))): TestCert {
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile };
}

export function removeCert(c: TestCert): void {
  rmSync(join(c.certFile, '..'), { recursive: true, force: true });
}
